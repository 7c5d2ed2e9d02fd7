"""Leases from outside, with real clients (Tests/IntegrationTests/LeaseTests.swift runs this with the test venv's Python).

  check.py load  --base URL --token T --service pg --clients 8 --leases 50
      Many clients at once, each leasing, writing and giving back on one kept-alive connection: every copy holds only the
      seeded rows, no write is seen in another copy, no copy is lent twice.
  check.py kills --bin SANDBOX --checkout DIR --service pg --trials 25 --seed N
      kill -9 of `serve` while it lends, and of the background refill while it makes copies, at random points: no lease
      is lost, none is lent twice, no half-made copy is lent, and a refill afterwards leaves the server holding exactly
      the copies the store knows.
  check.py docs  --base URL --token T --docs docs/testing.md --classpath JARS
      The pytest fixture, the Java class and the Go helper of docs/testing.md, run as they are written there.

Prints one line of figures; exits non-zero with the reason when a promise is broken.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import MySQLdb
import psycopg

SEEDED = {"pg": ("bookmarks", 3), "maria": ("visits", 3)}


def fail(message):
    sys.exit(f"check.py: {message}")


class API:
    """One kept-alive connection to `sandbox serve`."""

    def __init__(self, base, token, instance="dev"):
        parts = urllib.parse.urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.prefix = f"/api/v1/instances/{instance}"

    def call(self, method, path, body=None):
        self.connection.request(method, self.prefix + path, body=None if body is None else json.dumps(body), headers=self.headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read() or b"null")


def connect(service, lease):
    if service == "pg":
        return psycopg.connect(lease["url"], connect_timeout=20)
    return MySQLdb.connect(host=lease["host"], port=lease["port"], user=lease["user"], password=lease["password"],
                           database=lease["name"], connect_timeout=20)


def rows(service, lease):
    """The seeded table's row count and its columns, as the lease's own login sees them."""
    table = SEEDED[service][0]
    db = connect(service, lease)
    try:
        cur = db.cursor()
        cur.execute(f"SELECT count(*) FROM {table}")
        count = cur.fetchone()[0]
        if service == "pg":
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position", (table,))
        else:
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = %s "
                        "ORDER BY ordinal_position", (table,))
        return count, [r[0] for r in cur.fetchall()]
    finally:
        db.close()


def write(service, lease, mark):
    db = connect(service, lease)
    try:
        cur = db.cursor()
        if service == "pg":
            cur.execute("INSERT INTO bookmarks (url, title) VALUES (%s, %s)", (f"http://lease/{mark}", mark))
        else:
            cur.execute("INSERT INTO visits (path) VALUES (%s)", (f"/lease/{mark}",))
        db.commit()
    finally:
        db.close()


def marked(service, lease):
    """The marks written into this copy."""
    db = connect(service, lease)
    try:
        cur = db.cursor()
        if service == "pg":
            cur.execute("SELECT title FROM bookmarks WHERE url LIKE 'http://lease/%'")
        else:
            cur.execute("SELECT substring(path, 8) FROM visits WHERE path LIKE '/lease/%'")
        return sorted(r[0] for r in cur.fetchall())
    finally:
        db.close()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# MARK: - load

def load(args):
    seeded = SEEDED[args.service][1]
    lock = threading.Lock()
    seen, latencies, problems = {}, [], []

    def client(n):
        api = API(args.base, args.token)
        for i in range(args.leases):
            start = time.perf_counter()
            status, lease = api.call("POST", f"/services/{args.service}/databases", {"ttl": "10m"})
            elapsed = time.perf_counter() - start
            if status != 201:
                problems.append(f"lease {n}/{i}: {status} {lease}")
                return
            with lock:
                latencies.append(elapsed)
                for key in ("id", "name"):
                    if lease[key] in seen:
                        problems.append(f"{lease[key]} lent twice")
                    seen[lease[key]] = n
            count, _ = rows(args.service, lease)
            if count != seeded:
                problems.append(f"{lease['name']} holds {count} rows, not the {seeded} seeded")
            write(args.service, lease, f"{n}-{i}")
            if marked(args.service, lease) != [f"{n}-{i}"]:
                problems.append(f"{lease['name']} holds another copy's write")
            status, answer = api.call("DELETE", f"/services/{args.service}/databases/{lease['id']}")
            if status != 200:
                problems.append(f"release of {lease['id']}: {status} {answer}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if problems:
        fail("; ".join(problems[:5]))
    if len(latencies) != args.clients * args.leases:
        fail(f"{len(latencies)} leases, not {args.clients * args.leases}")
    status, listing = API(args.base, args.token).call("GET", f"/services/{args.service}/databases")
    left = [l["id"] for l in listing["leases"] if l["id"] in seen] if status == 200 else listing
    if left:
        fail(f"leases left after every one was given back: {left}")
    ms = [x * 1000 for x in latencies]
    print(f"{args.service}: {len(ms)} leases from {args.clients} clients in {time.perf_counter() - started:.1f} s, "
          f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, {len(seen) // 2} distinct copies")


# MARK: - kills

class Serve:
    def __init__(self, binary, checkout):
        self.process = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], cwd=checkout, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("open http"):
                self.base, self.token = line.strip()[len("open "):].split("/?token=")
                return
            if not line and self.process.poll() is not None:
                break
        fail("serve printed no link within 30 s")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def cli(args, *words):
    r = subprocess.run([args.bin, *words, "--instance", "dev"], cwd=args.checkout, capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def kills(args):
    rng = random.Random(args.seed)
    held = {}  # id -> (lease, mark): leases a client was told of, each with a row written into it
    reference = None
    hits = 0  # refills that were still running when killed

    def hold(lease, mark):
        nonlocal reference
        if lease["id"] in held:
            fail(f"{lease['id']} lent twice")
        shape = rows(args.service, lease)
        reference = reference or (SEEDED[args.service][1], shape[1])
        if shape != reference:
            fail(f"{lease['name']} is not a whole copy: {shape}, not {reference}")
        write(args.service, lease, mark)
        held[lease["id"]] = (lease, mark)

    for trial in range(args.trials):
        if trial % 2 == 0:
            # serve killed while a client leases from it as fast as it can.
            serve = Serve(args.bin, args.checkout)
            stop = threading.Event()

            def lend():
                api = API(serve.base, serve.token)
                n = 0
                while not stop.is_set():
                    try:
                        status, lease = api.call("POST", f"/services/{args.service}/databases", {"ttl": "1h"})
                    except Exception:
                        return
                    if status == 201:
                        hold(lease, f"s{trial}-{n}")
                        n += 1

            thread = threading.Thread(target=lend)
            thread.start()
            time.sleep(rng.uniform(0.05, 0.6))
            serve.kill()
            stop.set()
            thread.join()
        else:
            # The refill a command starts in the background, killed while it makes copies.
            for n in range(rng.randint(1, 4)):
                code, out, err = cli(args, "db", "lease", args.service, "--json", "--ttl", "1h")
                if code != 0:
                    fail(f"lease failed: {err}")
                hold(json.loads(out), f"r{trial}-{n}")
            time.sleep(rng.uniform(0.05, 0.35))
            if subprocess.run(["pkill", "-KILL", "-f", f"db refill {args.service} --instance dev"]).returncode == 0:
                hits += 1
        # Every lease a client was told of is still there, with its write.
        for lease, mark in rng.sample(list(held.values()), min(5, len(held))):
            if marked(args.service, lease) != [mark]:
                fail(f"{lease['id']} lost its write after trial {trial}")

    # A refill to the end: what the killed ones left is dropped; the server holds exactly what the store knows.
    code, _, err = cli(args, "db", "refill", args.service)
    if code != 0:
        fail(f"the last refill failed: {err}")
    code, out, err = cli(args, "db", "ls", "--json")
    listing = json.loads(out)
    lent = {l["id"] for l in listing["leases"] if l["service"] == args.service}
    if not set(held) <= lent:
        fail(f"leases lost: {sorted(set(held) - lent)[:5]}")
    for lease, mark in held.values():
        if marked(args.service, lease) != [mark]:
            fail(f"{lease['id']} lost its write")
    on_server = set(server_names(args))
    store = os.path.join(args.checkout, ".sandbox", "dev", "leases", args.service)
    known = {"lease_" + f[:-5] for state in ("ready", "leased", "making", "dropping")
             for f in os.listdir(os.path.join(store, state)) if os.path.isdir(os.path.join(store, state)) and f.endswith(".json")}
    templates = {json.load(open(os.path.join(store, "templates", f)))["template"] for f in os.listdir(os.path.join(store, "templates"))}
    strays = on_server - known - templates
    if strays:
        fail(f"the server holds copies nobody knows: {sorted(strays)[:5]}")
    for lease, _ in held.values():
        code, _, err = cli(args, "db", "release", lease["id"])
        if code != 0:
            fail(f"release failed: {err}")
    if hits == 0:
        fail("no refill was running when one was killed: the trials tested nothing there")
    print(f"{args.service}: {args.trials} trials ({hits} refills killed while running), {len(held)} leases kept through kill -9 of serve and of refills, "
          f"{len(on_server)} lease_ names on the server, all known")


def server_names(args):
    code, out, err = cli(args, "status", "--json")
    container = next(s["container"] for s in json.loads(out)["services"] if s["service"] == args.service + ".leases")
    if args.service == "pg":
        sql = ["psql", "-X", "-At", "-h", "/tmp", "-U", "sandbox", "-d", "postgres", "-c",
               "SELECT datname FROM pg_database WHERE datname LIKE 'lease\\_%' UNION SELECT rolname FROM pg_roles WHERE rolname LIKE 'lease\\_%'"]
        user = "postgres"
    else:
        sql = ["mariadb", "--socket=/tmp/mysqld.sock", "-u", "root", "-N", "-B", "-e",
               "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'lease\\_%' "
               "UNION SELECT user FROM mysql.user WHERE user LIKE 'lease\\_%'"]
        user = "mysql"
    r = subprocess.run(["docker", "exec", "--user", user, container, *sql], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail(f"listing the server failed: {r.stderr}")
    return [line for line in r.stdout.split("\n") if line]


# MARK: - docs

def docs(args):
    text = open(args.docs).read()
    blocks = dict((m.group(2), m.group(3)) for m in re.finditer(r"```(\w+) ([\w.]+)\n(.*?)```", text, re.S))
    work = tempfile.mkdtemp(prefix="lease-docs-")
    env = dict(os.environ, SANDBOX_URL=args.base, SANDBOX_TOKEN=args.token, SANDBOX_INSTANCE="dev")
    try:
        # pytest: the fixture, used by a test as the docs say.
        os.makedirs(os.path.join(work, "py"))
        open(os.path.join(work, "py", "conftest.py"), "w").write(blocks["conftest.py"])
        open(os.path.join(work, "py", "test_lease.py"), "w").write(
            "import psycopg\n\n"
            "def test_a_copy_of_its_own(bookmarker):\n"
            "    with psycopg.connect(bookmarker) as db:\n"
            "        assert db.execute('SELECT count(*) FROM bookmarks').fetchone()[0] == 3\n"
            "        db.execute(\"INSERT INTO bookmarks (url, title) VALUES ('http://docs', 'docs')\")\n\n"
            "def test_and_another(bookmarker):\n"
            "    with psycopg.connect(bookmarker) as db:\n"
            "        assert db.execute('SELECT count(*) FROM bookmarks').fetchone()[0] == 3\n")
        r = subprocess.run([os.path.join(os.path.dirname(sys.executable), "pytest"), "-q", "-p", "no:cacheprovider", os.path.join(work, "py")],
                           capture_output=True, text=True, env=env, timeout=300)
        if r.returncode != 0:
            fail(f"the pytest fixture failed:\n{r.stdout[-2000:]}{r.stderr[-1000:]}")
        # Java: the class, used with the PostgreSQL JDBC driver.
        java = os.path.join(work, "java")
        os.makedirs(java)
        open(os.path.join(java, "SandboxDatabase.java"), "w").write(blocks["SandboxDatabase.java"])
        open(os.path.join(java, "Main.java"), "w").write(
            "import java.sql.*;\n"
            "public class Main { public static void main(String[] a) throws Exception {\n"
            "  try (SandboxDatabase db = SandboxDatabase.lease(\"pg\");\n"
            "       Connection c = DriverManager.getConnection(db.get(\"DATABASE_JDBC_URL\"));\n"
            "       ResultSet r = c.createStatement().executeQuery(\"SELECT count(*) FROM bookmarks\")) {\n"
            "    r.next(); System.out.println(\"bookmarks=\" + r.getInt(1));\n"
            "  } } }\n")
        r = subprocess.run(["javac", "-d", os.path.join(java, "out"), os.path.join(java, "SandboxDatabase.java"), os.path.join(java, "Main.java")],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            fail(f"the Java class does not compile:\n{r.stderr[-2000:]}")
        r = subprocess.run(["java", "-cp", os.path.join(java, "out") + ":" + args.classpath, "Main"], capture_output=True, text=True,
                           env=env, timeout=300)
        if r.returncode != 0 or r.stdout.strip() != "bookmarks=3":
            fail(f"the Java class failed:\n{r.stdout}{r.stderr[-2000:]}")
        # Go: the helper, in a module of its own (the standard library only), used by a test.
        go = shutil.which("go")
        if go is None:
            fail("no Go toolchain (Scripts/test-deps installs golang-go)")
        module = os.path.join(work, "go")
        os.makedirs(module)
        open(os.path.join(module, "go.mod"), "w").write("module example.com/sandboxdb\n\ngo 1.19\n")
        open(os.path.join(module, "sandboxdb.go"), "w").write(blocks["sandboxdb.go"])
        open(os.path.join(module, "sandboxdb_test.go"), "w").write(
            "package sandboxdb\n\nimport (\n\t\"strings\"\n\t\"testing\"\n)\n\n"
            "func TestLease(t *testing.T) {\n\tdb := Database(t, \"pg\")\n"
            "\tif !strings.HasPrefix(db.URL, \"postgresql://\"+db.User+\":\") || db.Env[\"DATABASE_URL\"] != db.URL {\n"
            "\t\tt.Fatalf(\"unexpected lease %+v\", db)\n\t}\n}\n")
        goenv = dict(env, GOCACHE=os.path.join(work, "gocache"), GOPATH=os.path.join(work, "gopath"), GOFLAGS="-mod=mod", GOPROXY="off")
        r = subprocess.run([go, "test", "./..."], cwd=module, capture_output=True, text=True, env=goenv, timeout=600)
        if r.returncode != 0:
            fail(f"the Go helper failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
        print("docs/testing.md: the pytest fixture, the Java class and the Go helper each leased, used and gave back a copy")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["load", "kills", "docs"])
    parser.add_argument("--base")
    parser.add_argument("--token")
    parser.add_argument("--service", default="pg")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--leases", type=int, default=50)
    parser.add_argument("--bin")
    parser.add_argument("--checkout")
    parser.add_argument("--trials", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--docs")
    parser.add_argument("--classpath")
    args = parser.parse_args()
    {"load": load, "kills": kills, "docs": docs}[args.what](args)


if __name__ == "__main__":
    main()
