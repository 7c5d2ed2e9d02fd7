import Foundation
import SandboxBase
import SandboxRecipes

/// The files an image built from the checkout was built from (path to hash), kept after each build in
/// `.sandbox/images/`, so the next plan can say which file changed: `app/app.py changed`.
package enum ImageManifest {
    static func file(_ tag: String, in checkout: Checkout) -> URL {
        let name = tag.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? String($0) : "_" }.joined()
        return checkout.stateDirectory.appendingPathComponent("images").appendingPathComponent(name + ".json")
    }

    package static func read(_ tag: String, in checkout: Checkout) -> [String: String]? {
        guard let data = FileManager.default.contents(atPath: file(tag, in: checkout).path) else { return nil }
        return try? JSONDecoder().decode([String: String].self, from: data)
    }

    /// Written once the image is built; not flushed: a lost manifest only makes a plan say "image recipe changed".
    package static func write(_ files: [String: String], for tag: String, in checkout: Checkout) throws(SandboxError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically((try? encoder.encode(files)) ?? Data(), to: file(tag, in: checkout), mode: 0o644, durable: false)
    }
}
