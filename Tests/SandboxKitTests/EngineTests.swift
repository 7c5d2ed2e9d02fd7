import Foundation
import Testing
@testable import SandboxEngine

/// Every docker command the library can issue, as argv, checked without running anything.
@Suite struct DockerCommandTests {
    @Test func listContainersFiltersOnEveryLabelInAStableOrder() {
        let command = DockerCommand.listContainers(labels: [Label.sandbox: "demo", Label.checkout: "ab12cd34", Label.instance: "dev"])
        #expect(command.arguments == ["ps", "--all", "--no-trunc",
                                      "--filter", "label=dev.sandbox.checkout=ab12cd34",
                                      "--filter", "label=dev.sandbox.instance=dev",
                                      "--filter", "label=dev.sandbox.sandbox=demo",
                                      "--format", "{{json .}}"])
        #expect(command.stdinFile == nil && command.environment.isEmpty)
    }

    @Test func inspectImagesAsksForAllTagsInOneCall() {
        #expect(DockerCommand.inspectImages(["acme/postgresql-15:demo", "debian:bookworm"]).arguments
                == ["image", "inspect", "--format", "{{json .}}", "acme/postgresql-15:demo", "debian:bookworm"])
    }

    @Test func buildUsesTheClassicBuilderAndLabelsTheImage() {
        let command = DockerCommand.build(tag: "acme/postgresql-15:demo", context: "/tmp/ctx",
                                          labels: [Label.imageHash: "abc", Label.component: "postgresql-15"])
        #expect(command.arguments == ["build", "--tag", "acme/postgresql-15:demo", "--rm", "--force-rm",
                                      "--label", "dev.sandbox.component=postgresql-15",
                                      "--label", "dev.sandbox.image-hash=abc", "/tmp/ctx"])
        #expect(command.environment == ["DOCKER_BUILDKIT": "0"])
    }

    @Test func pullIsQuiet() {
        #expect(DockerCommand.pull("debian:bookworm").arguments == ["pull", "--quiet", "debian:bookworm"])
    }

    @Test func importLabelsTheBootstrappedImageAndGivesItACommand() {
        let command = DockerCommand.importImage(tarball: "/tmp/rootfs.tar", tag: "debian:bookworm",
                                                labels: [Label.component: "bootstrap-bookworm"])
        #expect(command.arguments == ["import", "--change", "LABEL dev.sandbox.component=bootstrap-bookworm",
                                      "--change", "CMD [\"/bin/bash\"]", "/tmp/rootfs.tar", "debian:bookworm"])
    }

    @Test func runCarriesNameLabelsEnvMountPortSignalTimeoutAndNetwork() {
        var spec = DockerCommand.RunSpec(name: "sbx-demo-ab12cd34-dev-pg", image: "acme/postgresql-15:demo",
                                         labels: [Label.service: "pg", Label.instance: "dev"])
        spec.environment = ["SANDBOX_UID": "1000", "SANDBOX_GID": "1000"]
        spec.mounts = [.init("/home/me/app/.sandbox/dev/pg", at: "/data"), .init("/home/me/app/src", at: "/app", readOnly: true)]
        spec.publish = ("127.0.0.1", 20001, 5432)
        spec.stopSignal = "SIGINT"
        spec.stopTimeout = 30
        spec.network = "none"
        spec.initProcess = true
        spec.command = ["postgres", "-D", "/data/main"]
        #expect(DockerCommand.run(spec).arguments == [
            "run", "--detach", "--init", "--name", "sbx-demo-ab12cd34-dev-pg",
            "--label", "dev.sandbox.instance=dev", "--label", "dev.sandbox.service=pg",
            "--env", "SANDBOX_GID=1000", "--env", "SANDBOX_UID=1000",
            "--mount", "type=bind,source=/home/me/app/.sandbox/dev/pg,target=/data",
            "--mount", "type=bind,source=/home/me/app/src,target=/app,readonly",
            "--publish", "127.0.0.1:20001:5432",
            "--stop-signal", "SIGINT", "--stop-timeout", "30", "--network", "none",
            "acme/postgresql-15:demo", "postgres", "-D", "/data/main",
        ])
    }

    @Test func runInTheForegroundRemovedAfterwards() {
        var spec = DockerCommand.RunSpec(name: "init", image: "img", labels: [:])
        spec.detached = false
        spec.remove = true
        #expect(DockerCommand.run(spec).arguments == ["run", "--rm", "--name", "init", "img"])
    }

    @Test func mountPathsWithSpacesAndCommasStayOneArgument() {
        var spec = DockerCommand.RunSpec(name: "n", image: "img", labels: [:])
        spec.mounts = [.init("/home/me/my app/.sandbox", at: "/data")]
        let argv = DockerCommand.run(spec).arguments
        #expect(argv.contains("type=bind,source=/home/me/my app/.sandbox,target=/data"))
    }

    @Test func execFeedsTheScriptOnStandardInputNeverInTheArgv() throws {
        let secret = "printf '%s' 's3cr3t' | psql"
        let command = DockerCommand.exec("c1", user: "postgres", script: secret)
        #expect(command.arguments == ["exec", "--interactive", "--user", "postgres", "c1", "/bin/sh", "-c", DockerCommand.scriptReader])
        #expect(!command.arguments.joined(separator: " ").contains("s3cr3t"))
        // The first line of standard input is the script, base64-encoded so that it is one line.
        #expect(try command.input() == Data((Data(secret.utf8).base64EncodedString() + "\n").utf8))
    }

    @Test func execFeedsTheFileAfterTheScript() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fed-\(UUID().uuidString).sql")
        try "select 1;\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let fed = DockerCommand.exec("c1", user: "postgres", script: "psql -d app", stdinFile: file.path)
        #expect(fed.stdinFile == file.path)
        #expect(try fed.input() == Data((Data("psql -d app".utf8).base64EncodedString() + "\nselect 1;\n").utf8))
    }

    @Test func theScriptReaderRunsTheFirstLineAndLeavesTheRestForTheScript() throws {
        // The real /bin/sh: a multi-line script with quotes runs, and reads what follows it on the same standard input.
        let command = DockerCommand.exec("c1", user: "u", script: "set -e\nx='it'\\''s'\nprintf '%s:' \"$x\"; cat")
        var input = try #require(try command.input())
        input += Data("the rest\n".utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", DockerCommand.scriptReader]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "it's:the rest\n")
    }

    @Test func aRunWithAScriptIsInteractiveAndRunsTheReader() {
        var spec = DockerCommand.RunSpec(name: "init", image: "img", labels: [:])
        spec.script = "printf '%s' secret > /tmp/pw"
        let command = DockerCommand.run(spec)
        #expect(command.arguments == ["run", "--detach", "--interactive", "--name", "init", "img", DockerCommand.scriptReader])
        #expect(command.script == spec.script)
    }

    @Test func execAttachedPassesTheProgramsArgvUntouched() {
        #expect(DockerCommand.execAttached("c1", user: "postgres", argv: ["psql", "-c", "select 'a b'"], tty: false).arguments
                == ["exec", "--interactive", "--user", "postgres", "c1", "psql", "-c", "select 'a b'"])
        #expect(DockerCommand.execAttached("c1", user: "postgres", argv: ["bash"], tty: true).arguments
                == ["exec", "--interactive", "--tty", "--user", "postgres", "c1", "bash"])
    }

    @Test func containerStateIsOneWord() {
        #expect(DockerCommand.containerState("c1").arguments == ["inspect", "--type", "container", "--format", "{{.State.Status}}", "c1"])
    }

    @Test func lifecycleCommands() {
        #expect(DockerCommand.start(["a", "b"]).arguments == ["start", "a", "b"])
        #expect(DockerCommand.stop(["a"]).arguments == ["stop", "a"])
        #expect(DockerCommand.stop(["a", "b"], timeout: 30).arguments == ["stop", "--time", "30", "a", "b"])
        #expect(DockerCommand.remove(["a"]).arguments == ["rm", "a"])
        #expect(DockerCommand.remove(["a"], force: true).arguments == ["rm", "--force", "a"])
    }

    @Test func logsWithTailAndFollow() {
        #expect(DockerCommand.logs("c1").arguments == ["logs", "c1"])
        #expect(DockerCommand.logs("c1", tail: 30).arguments == ["logs", "--tail", "30", "c1"])
        #expect(DockerCommand.logs("c1", tail: 100, follow: true).arguments == ["logs", "--tail", "100", "--follow", "c1"])
    }

    @Test func infoAndVersionReadJSON() {
        #expect(DockerCommand.info.arguments == ["info", "--format", "{{json .ServerVersion}}"])
        #expect(DockerCommand.version.arguments == ["version", "--format", "{{json .}}"])
    }

    @Test func displayQuotesForAShell() {
        #expect(DockerCommand.execAttached("c1", user: "postgres", argv: ["psql", "-c", "select 1"], tty: false).display
                == "docker exec --interactive --user postgres c1 psql -c 'select 1'")
    }
}

/// Dockerfiles for the classic builder: exec-form RUN, no BuildKit syntax, one layer per build step.
@Suite struct DockerfileTests {
    @Test func imageRecipeBecomesAClassicDockerfile() throws {
        let fixture = try RecipeFixture([
            "Recipes/shop.yml": "sandbox: shop\nowner: acme\nservices:\n  web:\n    image: app\n",
            "Images/files/app.conf": "listen 8080\n",
            "Images/app.yml": """
            image: app
            from: debian:bookworm
            build:
              - apt: [curl, ca-certificates]
              - run: |
                  mkdir -p /srv/app
                  echo "it's ready" > /srv/app/README
              - copy: {src: files/app.conf, dest: /etc/app.conf, mode: "0644"}
              - env: {B: "2", A: "one two"}
            service:
              run-as: app
              data: /var/lib/app
              port: 8080
              engine: app
              version: "1"
              env: {APP_HOME: /srv/app}
              start: app --port {port}
              ready: curl -fs localhost:{port}
              stop-signal: SIGQUIT
            """,
        ])
        defer { fixture.remove() }
        let image = try #require(try fixture.resolve().image("acme/app:shop"))
        #expect(DockerfileRenderer.render(image) == #"""
        FROM debian:bookworm
        RUN ["/bin/sh","-c","apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \#
        curl ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*"]
        RUN ["/bin/sh","-c","set -e\nmkdir -p /srv/app\necho \"it's ready\" > /srv/app/README\n"]
        COPY ["files/2","/etc/app.conf"]
        RUN ["chmod","0644","/etc/app.conf"]
        ENV A="one two"
        ENV B="2"
        COPY sandbox-entry /usr/local/bin/sandbox-entry
        ENV APP_HOME="/srv/app"
        ENV SANDBOX_DATA="/var/lib/app"
        ENV SANDBOX_RUN_AS="app"
        EXPOSE 8080
        STOPSIGNAL SIGQUIT
        ENTRYPOINT ["/usr/local/bin/sandbox-entry"]

        """#)
    }

    @Test func stockRecipesNeedNoBuildKitSyntax() throws {
        let fixture = try RecipeFixture(["Recipes/demo.yml": """
        sandbox: demo
        owner: acme
        services:
          pg: {image: postgresql-15}
          maria: {image: mariadb-10.11}
        """])
        defer { fixture.remove() }
        for image in try fixture.resolve().images where image.recipe.bootstrap == nil {
            let text = DockerfileRenderer.render(image)
            #expect(!text.contains("--mount") && !text.contains("<<") && !text.hasPrefix("# syntax"), "\(image.tag)")
            #expect(text.hasPrefix("FROM debian:bookworm\n"), "\(image.tag)")
        }
    }
}

/// The host's Debian mirror, read from both apt formats.
@Suite struct AptMirrorTests {
    @Test func oneLineFormatSkipsOptionsCommentsAndSourceLines() {
        let text = """
        # main archive
        deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] http://mirror.example/debian bookworm main
        deb-src http://src.example/debian bookworm main
        deb http://security.debian.org/debian-security bookworm-security main
        deb cdrom:[Debian 12]/ bookworm main
        """
        #expect(AptMirror.parse(text, deb822: false) == ["http://mirror.example/debian", "http://security.debian.org/debian-security"])
    }

    @Test func deb822FormatReadsEveryDebStanza() {
        let text = """
        Types: deb deb-src
        URIs: http://mirror.example/debian http://second.example/debian
        Suites: bookworm bookworm-updates
        Components: main

        Types: deb-src
        URIs: http://only-sources.example/debian
        Suites: bookworm

        # Types: deb
        Types: deb
        URIs: http://deb.debian.org/debian-security
        Suites: bookworm-security
        """
        #expect(AptMirror.parse(text, deb822: true)
                == ["http://mirror.example/debian", "http://second.example/debian", "http://deb.debian.org/debian-security"])
    }

    @Test func forSuitePrefersTheArchiveOverSecurityAndFallsBackToDebian() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("apt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sources.list.d"), withIntermediateDirectories: true)
        #expect(AptMirror.forSuite("bookworm", root: root.path) == "http://deb.debian.org/debian")
        #expect(AptMirror.forSuite("noble", root: root.path) == "http://archive.ubuntu.com/ubuntu")
        try Data("""
        Types: deb
        URIs: http://security.debian.org/debian-security
        Suites: bookworm-security

        Types: deb
        URIs: http://mirror.local/debian
        Suites: bookworm
        """.utf8).write(to: root.appendingPathComponent("sources.list.d/debian.sources"))
        #expect(AptMirror.forSuite("bookworm", root: root.path) == "http://mirror.local/debian")
    }
}
