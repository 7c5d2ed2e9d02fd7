import Foundation
import SandboxBase

/// A folder of the checkout an image is built from, as the build will see it: every file `.dockerignore` does not
/// exclude, each with the hash of its content (a link: of where it points; links are never followed).
/// The image's content hash covers them, so the image is rebuilt exactly when a file it is built from changes, and
/// the plan can name which.
package struct BuildContext: Sendable, Equatable {
    /// The folder's real path.
    package var root: URL
    /// Relative path to content hash, for every file the build sees.
    package var files: [String: String]
    /// The folder as the checkout names it (`app`), for people.
    package var display: String

    /// At most this many files: a context that size is a folder `.dockerignore` should leave out (node_modules, .git).
    package static let maximumFiles = 20_000

    package enum ReadError: Error, Equatable {
        case tooMany(Int)
        case unreadable(String)
    }

    /// Walks `root`, leaving out what its `.dockerignore` excludes (and `.git`, `.sandbox`, which never belong in an image).
    package static func read(_ root: URL, display: String) -> Result<BuildContext, ReadError> {
        // `.dockerignore` is read only as a plain file: a link would read a file from anywhere.
        let ignoreFile = root.appendingPathComponent(".dockerignore")
        let plain = (try? FileManager.default.destinationOfSymbolicLink(atPath: ignoreFile.path)) == nil
        let ignore = DockerIgnore(text: plain ? (try? String(contentsOf: ignoreFile, encoding: .utf8)) ?? "" : "")
        var files: [String: String] = [:]
        var pending = [""]
        while let folder = pending.popLast() {
            let full = folder.isEmpty ? root : root.appendingPathComponent(folder)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: full.path) else {
                return .failure(.unreadable(folder.isEmpty ? "." : folder))
            }
            for name in names.sorted() {
                let relative = folder.isEmpty ? name : folder + "/" + name
                if folder.isEmpty && (name == ".git" || name == ".sandbox") { continue }
                let path = root.appendingPathComponent(relative).path
                var info = stat()
                guard lstat(path, &info) == 0 else { return .failure(.unreadable(relative)) }
                let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
                if ignore.excludes(relative) && !(isDirectory && ignore.mayInclude(under: relative)) { continue }
                if isDirectory {
                    pending.append(relative)
                } else if (info.st_mode & S_IFMT) == S_IFLNK {
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? ""
                    files[relative] = "link:" + ContentHash.of(data: Data(target.utf8))
                } else if (info.st_mode & S_IFMT) == S_IFREG {
                    guard let hash = try? ContentHash.of(file: path) else { return .failure(.unreadable(relative)) }
                    // The executable bit is part of what the image gets.
                    files[relative] = (info.st_mode & 0o111 != 0 ? "x:" : "") + hash
                }
                if files.count > maximumFiles { return .failure(.tooMany(files.count)) }
            }
        }
        return .success(BuildContext(root: root, files: files, display: display))
    }

    /// What differs from `before` (a manifest of an earlier build), as people read it in a plan's cause:
    /// `app/app.py changed`, `app/new.py added and 2 more`.
    package static func change(from before: [String: String], to now: [String: String]) -> String? {
        var changes: [String] = []
        for (path, hash) in now.sorted(by: { $0.key < $1.key }) where before[path] != hash {
            changes.append("\(path) \(before[path] == nil ? "added" : "changed")")
        }
        for path in before.keys.sorted() where now[path] == nil { changes.append("\(path) removed") }
        guard let first = changes.first else { return nil }
        return changes.count == 1 ? first : "\(first) and \(changes.count - 1) more"
    }
}

/// `.dockerignore` as the Docker CLI reads it: one pattern a line, `#` comments, `!` re-includes, `*` and `?` within a
/// path part, `**` across parts; a pattern that matches a folder matches everything in it; the last matching line wins.
package struct DockerIgnore {
    struct Rule {
        var regex: Regex<Substring>
        var include: Bool
    }

    let rules: [Rule]

    package init(text: String) {
        var rules: [Rule] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let include = line.hasPrefix("!")
            if include { line.removeFirst() }
            while line.hasPrefix("/") { line.removeFirst() }
            while line.hasSuffix("/") { line.removeLast() }
            if line.hasPrefix("./") { line.removeFirst(2) }
            guard !line.isEmpty, let regex = try? Regex<Substring>("^" + Self.pattern(line) + "(/.*)?$") else { continue }
            rules.append(Rule(regex: regex, include: include))
        }
        self.rules = rules
    }

    /// A glob as a regular expression over slash-separated relative paths.
    static func pattern(_ glob: String) -> String {
        var out = ""
        var chars = Array(glob)[...]
        while let c = chars.popFirst() {
            switch c {
            case "*":
                if chars.first == "*" {
                    chars.removeFirst()
                    if chars.first == "/" { chars.removeFirst(); out += "(.*/)?" } else { out += ".*" }
                } else {
                    out += "[^/]*"
                }
            case "?": out += "[^/]"
            case "\\": if let next = chars.popFirst() { out += NSRegularExpression.escapedPattern(for: String(next)) }
            default: out += NSRegularExpression.escapedPattern(for: String(c))
            }
        }
        return out
    }

    /// Whether the build leaves `path` out.
    package func excludes(_ path: String) -> Bool {
        var excluded = false
        for rule in rules where path.wholeMatch(of: rule.regex) != nil { excluded = !rule.include }
        return excluded
    }

    /// Whether a `!` line may bring back something inside an excluded folder (then the folder is still walked).
    func mayInclude(under folder: String) -> Bool { rules.contains { $0.include } }
}
