import Foundation

extension Workspace {
    /// The images part of `up`: bases and recipe builds on the real engine.
    public var imageProvider: any ImageProviding { ImageBuilder(docker: docker, stateDirectory: checkout.stateDirectory) }
}
