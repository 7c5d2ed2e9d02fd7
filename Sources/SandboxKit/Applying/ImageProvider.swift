import Foundation

extension Workspace {
    /// The images part of `up`: stock builder on the real engine.
    public var imageProvider: any ImageProviding { PendingImageProvider() }
}

/// Stand-in until the engine's image builder lands; fails with a clear message.
struct PendingImageProvider: ImageProviding {
    func ensureBase(_ tag: String, recipe: ImageRecipe?, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        throw SandboxError(.baseImageUnavailable, "base image \(tag) is missing", fix: "docker pull \(tag)")
    }

    func build(_ image: ResolvedImage, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        throw SandboxError(.buildFailed, "building \(image.tag) is not available in this build", fix: "update sandbox")
    }
}
