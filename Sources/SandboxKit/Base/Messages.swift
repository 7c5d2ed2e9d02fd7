import Foundation

/// Texts for people that more than one place shows: each cause and its fix read the same wherever they appear.
package enum Messages {
    // Ports
    package static func pinnedPortTaken(_ service: String, port: Int, address: String) -> String {
        "service \(service): port \(port) on \(address) is already in use"
    }

    package static func pinnedPortFix(_ service: String, port: Int, recipe: String) -> String {
        "free it (`ss -ltnp 'sport = :\(port)'` shows what holds it), or change 'port' for \(service) in \(recipe) (or remove it to pick a free port)"
    }

    package static let freePorts = "free some ports in 20000-39999 and run `sandbox up` again"

    // Instances
    package static func up(_ instance: String) -> String {
        instance == "dev" ? "sandbox up" : "sandbox up --instance \(instance)"
    }

    package static func waiting(_ instance: String) -> String {
        "waiting for another `sandbox` command on instance '\(instance)' to finish"
    }

    package static func busy(_ instance: String) -> SandboxError {
        SandboxError(.instanceBusy, "another `sandbox` command is working on instance '\(instance)'",
                     fix: "wait for it to finish, drop --no-wait to queue behind it, or use another --instance")
    }

    package static func wrongSandbox(instance: String, owner: String, asked: String) -> SandboxError {
        SandboxError(.wrongSandbox, "instance '\(instance)' belongs to sandbox \(owner), not \(asked)",
                     fix: "use another name (`sandbox up \(asked) --instance \(instance)-\(asked)`), "
                         + "act on it as `sandbox ... \(owner) --instance \(instance)`, "
                         + "or remove it first: `sandbox destroy \(owner) --instance \(instance) --delete-data`")
    }

    // Data
    package static func damagedDataFix(instance: String) -> String {
        "`sandbox reset\(instance == "dev" ? "" : " --instance \(instance)")` replaces it with fresh data, "
            + "`sandbox snapshot restore NAME` with a saved copy; or move it away and `sandbox up`"
    }

    package static let diskFullFix = "free space on the disk that holds .sandbox/ (`df -h .sandbox`): `sandbox snapshot ls` shows what each snapshot "
        + "frees with `sandbox snapshot delete NAME`, `sandbox destroy --delete-data --instance NAME` deletes a copy you no longer need; "
        + "then run the command again (nothing was changed)"

    /// A state file of an instance that cannot be read: named, never replaced by a guess.
    package static func damagedState(_ file: String, reason: String, holds: String, repair: String, instance: String) -> SandboxError {
        SandboxError(.stateDamaged, "\(file) cannot be read (\(reason)): it holds \(holds)",
                     fix: "put it back (from a backup, or a snapshot's copy), or run `\(up(instance)) --repair` to \(repair)")
    }

    package static func notWritable(_ path: String) -> String {
        "make it writable by you: chmod u+w \(path) (or chown it back to your user; `chattr -i` if it is immutable)"
    }

    // Engine
    /// For a failure that is not one of the tool's own (a bug): where `serve` wrote what it knows.
    package static let serverLog = "this is a bug in sandbox: run the same command on the command line to see it, and report it"

    package static let startEngine = "start it: sudo Scripts/engine-up (or `sudo systemctl start docker`); check with `docker info`"

    /// `image`: the store's image file as shown to people (`.sandbox/.store.xfs`).
    package static func storeNotMounted(image: String) -> SandboxError {
        SandboxError(.storeNotMounted, "the data store of this checkout (\(image)) is not mounted, so .sandbox/ looks empty (after a restart)",
                     fix: "mount it: `sudo sandbox store mount` (any `sudo sandbox` command mounts it too); the data is in the image, untouched")
    }

    /// `owner` and `asked`: engines as `Docker.engine` names them (nil: the default one).
    package static func otherEngine(instance: String, owner: String?, asked: String?) -> SandboxError {
        SandboxError(.otherEngine, "instance '\(instance)' lives on \(owner.map { "the engine \($0)" } ?? "the default engine"), "
                         + "but this command talks to \(asked.map { "the engine \($0)" } ?? "the default engine")",
                     fix: owner.map { "run it with DOCKER_HOST=\($0), or use another --instance on this engine" }
                         ?? "unset DOCKER_HOST (and DOCKER_CONTEXT), or use another --instance on this engine")
    }
}
