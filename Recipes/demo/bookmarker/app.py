"""The demo's web application: the bookmarks from PostgreSQL (cached in Redis for a few seconds), each visit recorded
in MariaDB. Everything it needs comes from its environment, which `sandbox` writes for it (Recipes/demo.yml, `env` of
service web): the databases and the cache as the instance's network reaches them."""
import html
import json
import os
import urllib.parse

import psycopg2
import pymysql
import redis
from flask import Flask, Response, request

app = Flask(__name__)
CACHE_SECONDS = int(os.environ.get("CACHE_SECONDS", "2"))
cache = redis.Redis.from_url(os.environ["CACHE_URL"], socket_timeout=2, socket_connect_timeout=2)


def analytics():
    url = urllib.parse.urlsplit(os.environ["ANALYTICS_URL"])
    return pymysql.connect(host=url.hostname, port=url.port or 3306, user=urllib.parse.unquote(url.username or ""),
                           password=urllib.parse.unquote(url.password or ""), database=url.path.lstrip("/"),
                           connect_timeout=5, autocommit=True)


def bookmarks():
    """The bookmarks, and whether they came from the cache."""
    cached = cache.get("bookmarks")
    if cached is not None:
        return json.loads(cached), True
    with psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5) as db, db.cursor() as cursor:
        cursor.execute("SELECT title, url FROM bookmarks ORDER BY id")
        rows = [{"title": title, "url": url} for title, url in cursor.fetchall()]
    cache.setex("bookmarks", CACHE_SECONDS, json.dumps(rows))
    return rows, False


def record_visit(path):
    db = analytics()
    try:
        with db.cursor() as cursor:
            cursor.execute("INSERT INTO visits (path, referrer) VALUES (%s, %s)", (path, request.referrer))
            cursor.execute("SELECT COUNT(*) FROM visits")
            return cursor.fetchone()[0]
    finally:
        db.close()


@app.get("/")
def index():
    rows, from_cache = bookmarks()
    visits = record_visit(request.path)
    items = "\n".join(f'<li><a href="{html.escape(r["url"])}">{html.escape(r["title"])}</a></li>' for r in rows)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bookmarker</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
li{{margin:.3rem 0}} footer{{color:#666;font-size:.85rem;margin-top:2rem}}</style></head>
<body><h1>Bookmarks</h1>
<ul id="bookmarks">
{items}
</ul>
<footer>Visit {visits} · {"from the cache" if from_cache else "fresh from the database"} · instance
{html.escape(os.environ.get("SANDBOX_INSTANCE", "?"))}</footer>
</body></html>
"""
    return Response(page, mimetype="text/html")


@app.get("/api/bookmarks")
def api_bookmarks():
    rows, from_cache = bookmarks()
    return {"bookmarks": rows, "cached": from_cache}


@app.get("/favicon.ico")
def favicon():
    return Response(status=204)


@app.get("/health")
def health():
    """200 once every service the page needs answers; 503 with the one that does not."""
    checks = {
        "postgresql": lambda: psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=2).close(),
        "mariadb": lambda: analytics().close(),
        "redis": lambda: cache.ping(),
    }
    for name, check in checks.items():
        try:
            check()
        except Exception as error:  # any failure means not ready; its words say why
            return Response(f"{name}: {error}\n", status=503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain")
