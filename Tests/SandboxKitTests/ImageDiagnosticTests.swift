import Foundation
import Testing

/// Golden diagnostics for image recipes (Images/*.yml), and what a sandbox using a broken one is told.
@Suite struct ImageDiagnosticTests {
    @Test func imageRecipeUnknownBuildStepKind() throws {
        #expect(try diagnose([
            "Images/app.yml": "image: app\nfrom: debian:bookworm\nbuild:\n  - aptt: [curl]\n  - apt: [curl, \"bad package\"]\n"
                + "service: {run-as: app, port: 8080, engine: app, version: \"1\", start: app, ready: \"true\"}\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n",
        ]) == #"""
        Images/app.yml:4:5: error: unknown key 'aptt' in a build step (did you mean 'apt'?)
          - aptt: [curl]
            ^
        Images/app.yml:5:10: error: 'bad package' is not a Debian package name
          - apt: [curl, "bad package"]
                 ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func upgradeRoutesNeedTheirCommandsAndAKnownMethod() throws {
        let service = "service:\n  run-as: app\n  port: 8080\n  engine: app\n  version: \"2\"\n  start: app\n  ready: \"true\"\n"
        let output = try diagnose([
            "Images/app.yml": "image: app\nfrom: debian:bookworm\n" + service + "  upgrade:\n    method: dumb\n",
            "Images/app2.yml": "image: app2\nfrom: debian:bookworm\n" + service
                + "  upgrade:\n    method: dump\n    dump: app-dump\n    run: app-upgrade {prot}\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app2\n",
        ])
        #expect(output.contains("Images/app.yml:11:13: error: 'method' must be one of dump, in-place, not 'dumb' (did you mean 'dump'?)"), "\(output)")
        #expect(output.contains("Images/app2.yml:11:5: error: upgrade method 'dump' needs 'restore': "
                                + "'dump' writes the old data to standard output, 'restore' reads it"), "\(output)")
        #expect(output.contains("Images/app2.yml:13:5: error: 'run' belongs to upgrade method 'in-place', not 'dump'"), "\(output)")
        #expect(output.contains("Images/app2.yml:13:22: error: unknown reference '{prot}' in upgrade 'run' (did you mean 'port'?)"), "\(output)")
        #expect(try diagnose([
            "Images/app.yml": "image: app\nfrom: debian:bookworm\n" + service + "  upgrade:\n    method: in-place\n    run: app-upgrade --data {data}\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n",
        ]) == "ok")
    }

    @Test func imageRecipeWithoutFromOrBootstrap() throws {
        #expect(try diagnose([
            "Images/app.yml": "image: app\nbuild:\n  - run: make install\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n",
        ]) == #"""
        Images/app.yml:1:1: error: an image recipe needs 'from' (the image it starts from), 'bootstrap' (how to make a base image) \#
        or 'dockerfile' (the project's own)
        image: app
        ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func imageRecipeServiceMissingStartAndRunningAsRoot() throws {
        #expect(try diagnose([
            "Images/app.yml": "image: app\nfrom: debian:bookworm\nservice:\n  run-as: root\n  port: 8080\n  engine: app\n  version: \"1\"\n"
                + "  ready: curl -f localhost:{port}\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n",
        ]) == #"""
        Images/app.yml:4:3: error: 'service' is missing required key 'start'
          run-as: root
          ^
        Images/app.yml:4:11: error: services must not run as root; name the service's own user, like 'postgres'
          run-as: root
                  ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func imageRecipeFileParameterWithoutStdin() throws {
        #expect(try diagnose([
            "Images/app.yml": "image: app\nfrom: debian:bookworm\n"
                + "service: {run-as: app, port: 8080, engine: app, version: \"1\", start: app, ready: \"true\"}\n"
                + "actions:\n  load:\n    params: {file: file}\n    run: app-load\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n",
        ]) == #"""
        Images/app.yml:5:3: error: parameter 'file' of action 'load' is a file parameter; files reach the command on its standard input, so add 'stdin: file'
          load:
          ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func imageRecipeUnknownReferenceInCommand() throws {
        #expect(try diagnose([
            "Images/app.yml": "image: app\nfrom: debian:bookworm\nservice:\n  run-as: app\n  port: 8080\n  engine: app\n  version: \"1\"\n"
                + "  start: app --port {prot} --data {data}\n  ready: \"true\"\n  stop-signal: SIGTREM\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n",
        ]) == #"""
        Images/app.yml:8:21: error: unknown reference '{prot}' in 'start' (did you mean 'port'?); known here: {user}, {password}, {port}, {data}, {run-as}
          start: app --port {prot} --data {data}
                            ^
        Images/app.yml:10:16: error: 'stop-signal' must be one of SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGKILL, \#
        not 'SIGTREM' (did you mean 'SIGTERM'?)
          stop-signal: SIGTREM
                       ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func imageRecipeCopyOfAMissingFile() throws {
        #expect(try diagnose([
            "Images/app.yml": "image: app\nfrom: debian:bookworm\nbuild:\n  - copy: {src: app.conf, dest: /etc/app.conf}\n"
                + "  - copy: {src: ../secrets, dest: etc}\n"
                + "service: {run-as: app, port: 8080, engine: app, version: \"1\", start: app, ready: \"true\"}\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n",
        ]) == #"""
        Images/app.yml:4:17: error: file 'app.conf' does not exist next to Images/app.yml
          - copy: {src: app.conf, dest: /etc/app.conf}
                        ^
        Images/app.yml:5:17: error: 'src' must be a path inside the recipe's folder, not '../secrets'
          - copy: {src: ../secrets, dest: etc}
                        ^
        Images/app.yml:5:35: error: 'dest' must be an absolute path in the image
          - copy: {src: ../secrets, dest: etc}
                                          ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func imageRecipeNameDiffersFromFileName() throws {
        #expect(try diagnose([
            "Images/app.yml": "image: web\nfrom: debian:bookworm\n"
                + "service: {run-as: app, port: 8080, engine: app, version: \"1\", start: app, ready: \"true\"}\n",
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: app\n",
        ]) == #"""
        Images/app.yml:1:1: error: image recipe 'web' is in app.yml; rename the file to Images/web.yml or set 'image: app' \#
        (sandbox recipes find images by file name)
        image: web
        ^
        Recipes/shop.yml:5:12: error: image recipe 'app' in Images/app.yml has errors (listed with it); fix them first
            image: app
                   ^
        """#)
    }

    @Test func imageWithoutServiceSection() throws {
        #expect(try diagnose([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  db:\n    image: debian-bookworm\n",
        ]) == #"""
        Recipes/shop.yml:5:12: error: image recipe 'debian-bookworm' has no 'service' section, so it cannot run as a service
            image: debian-bookworm
                   ^
        """#)
    }
}
