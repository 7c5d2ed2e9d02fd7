import Foundation

/// The host's Debian or Ubuntu mirror, read from apt's configuration.
package enum AptMirror {
    /// The first `deb` URI in one-line (`sources.list`) or deb822 (`*.sources`) files.
    package static func parse(_ text: String, deb822: Bool) -> [String] {
        var uris: [String] = []
        if deb822 {
            for stanza in text.components(separatedBy: "\n\n") {
                var types: [String] = [], stanzaURIs: [String] = []
                for line in stanza.split(separator: "\n") where !line.hasPrefix("#") {
                    let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2 else { continue }
                    if parts[0] == "Types" { types = parts[1].split(separator: " ").map(String.init) }
                    if parts[0] == "URIs" { stanzaURIs = parts[1].split(separator: " ").map(String.init) }
                }
                if types.contains("deb") { uris += stanzaURIs }
            }
        } else {
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init).filter { !$0.hasPrefix("[") && !$0.hasSuffix("]") }
                if words.first == "deb", words.count >= 2 { uris.append(words[1]) }
            }
        }
        return uris.filter { $0.hasPrefix("http://") || $0.hasPrefix("https://") || $0.hasPrefix("file:") }
    }

    /// The mirror for `suite`: the host's archive (not its security one), or Debian's default.
    package static func forSuite(_ suite: String, root: String = "/etc/apt") -> String {
        var uris: [String] = []
        if let text = try? String(contentsOfFile: "\(root)/sources.list", encoding: .utf8) { uris += parse(text, deb822: false) }
        let dir = "\(root)/sources.list.d"
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
            guard let text = try? String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8) else { continue }
            if name.hasSuffix(".sources") { uris += parse(text, deb822: true) }
            if name.hasSuffix(".list") { uris += parse(text, deb822: false) }
        }
        let ubuntu = ["focal", "jammy", "noble", "oracular", "plucky"].contains(suite)
        let archive = uris.first { uri in
            !uri.contains("security") && (ubuntu ? uri.contains("ubuntu") : uri.contains("debian"))
        }
        return archive ?? (ubuntu ? "http://archive.ubuntu.com/ubuntu" : "http://deb.debian.org/debian")
    }
}
