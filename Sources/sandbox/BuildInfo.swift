/// What `sandbox --version` prints. `Scripts/package` writes the commit in for the build it packages;
/// a build from a checkout says so instead.
enum BuildInfo {
    static let version = "0.5.0"
    static let commit = "built from source"

    #if Server
    static var text: String { "\(version) (\(commit))" }
    #else
    static var text: String { "\(version) (\(commit); quick build: no serve, no delivery of notifications)" }
    #endif
}
