import Foundation

/// Follows a sandbox recipe's references to image recipes, actions and files, and computes every hash.
package struct Resolver {
    package var set: RecipeSet
    /// Bumped when the way images or data dirs are made changes, so old hashes stop matching.
    package static let formatVersion = 1

    package init(_ set: RecipeSet) { self.set = set }

    /// Resolves one sandbox, or throws every problem found as diagnostics.
    package func resolve(_ recipe: SandboxRecipe) throws(RecipeErrors) -> ResolvedSandbox {
        var diagnostics: [Diagnostic] = []
        var images: [ResolvedImage] = []
        var services: [ResolvedService] = []
        for service in recipe.services {
            guard let chain = imageChain(service.image, from: service.imageLocation, &diagnostics) else { continue }
            for (index, image) in chain.enumerated() where !images.contains(where: { $0.recipe.name == image.name }) {
                let base: ResolvedImage? = index == 0 ? nil : images.first { $0.recipe.name == chain[index - 1].name }
                images.append(resolveImage(image, base: base, sandbox: recipe, &diagnostics))
            }
            guard let top = chain.last, let image = images.first(where: { $0.recipe.name == top.name }) else { continue }
            // A recipe built on another inherits its service and actions, so `from: postgresql-15` plus a
            // build step (an extension, a config file) is a complete recipe; its own keys win.
            guard let spec = chain.reversed().lazy.compactMap(\.service).first else {
                diagnostics.append(Diagnostic(service.imageLocation, chain.count == 1
                    ? "image recipe '\(top.name)' has no 'service' section, so it cannot run as a service"
                    : "neither image recipe '\(top.name)' nor the recipes it is built on "
                        + "(\(chain.dropLast().map(\.name).joined(separator: ", "))) have a 'service' section, so it cannot run as a service"))
                continue
            }
            let actions = chain.reduce(into: [String: ImageRecipe.Action]()) { all, recipe in all.merge(recipe.actions) { $1 } }
            if spec.sql == nil {
                // An action that quotes for SQL, inherited by (or from) a recipe whose service declares no quoting.
                for action in actions.values.sorted(by: { $0.location < $1.location }) {
                    if let (reference, location) = action.firstFilter {
                        diagnostics.append(Diagnostic(location, RecipeMessages.noQuoting(reference, engine: spec.engine)))
                    }
                }
            }
            let recipeDir = (set.checkout.recipesDirectory.path)
            if spec.data == nil, let step = (service.setup + service.update).first {
                diagnostics.append(Diagnostic(step.location, "service '\(service.name)' keeps no data (image recipe '\(top.name)' says 'data: none'), "
                                                  + "so it has no setup or update steps; run what it needs in its 'start' command"))
                continue
            }
            let setup = resolveSteps(service.setup, kind: "setup", actions: actions, spec: spec, recipeDir: recipeDir, &diagnostics)
            let update = resolveSteps(service.update, kind: "update", actions: actions, spec: spec, recipeDir: recipeDir, &diagnostics)
            let setupHash = ContentHash.of(setup.map(\.hash))
            let fresh = FreshKey(format: Self.formatVersion, image: image.hash, initSteps: spec.initSteps.map(\.raw),
                                 user: spec.user, data: spec.data, setup: setupHash,
                                 instanceBound: setup.contains(where: \.perInstance))
            var resolved = ResolvedService(name: service.name, imageTag: image.tag, imageHash: image.hash, spec: spec,
                                           actions: actions, hostPort: service.hostPort, publish: service.publish,
                                           setup: setup, update: update, freshHash: ContentHash.of(fresh), setupHash: setupHash)
            resolved.env = service.env
            resolved.live = service.live
            resolved.dependsOn = Self.dependencies(of: service)
            if let live = service.live { checkLive(live, service: service, &diagnostics) }
            if let leases = service.leases {
                guard let settings = Self.leaseSettings(leases, service: service, image: top.name, spec: spec, setup: setup, &diagnostics) else { continue }
                resolved.leases = settings
                services.append(resolved)
                services.append(Self.leaseServer(for: resolved))
            } else {
                services.append(resolved)
            }
        }
        diagnostics += Self.cycles(recipe.services)
        if !diagnostics.isEmpty { throw RecipeErrors(diagnostics, sources: set.sources) }
        services = Self.ordered(services)
        var others: [String: [EngineVersion]] = [:]  // the same engine and version in two services: looked up once
        for index in services.indices {
            let spec = services[index].spec, key = spec.engine + " " + spec.version
            if others[key] == nil { others[key] = otherVersions(of: spec, sandbox: recipe) }
            services[index].otherVersions = others[key] ?? []
        }
        return ResolvedSandbox(name: recipe.name, owner: recipe.owner, recipePath: recipe.path, images: images,
                               services: services, env: recipe.env)
    }

    /// Every image recipe with a service of the same engine at another version, resolved with its bases.
    /// A recipe with errors is left out here; it is reported when a sandbox uses it.
    func otherVersions(of spec: ServiceSpec, sandbox: SandboxRecipe) -> [EngineVersion] {
        var found: [EngineVersion] = []
        for name in set.images.keys.sorted() {
            var ignored: [Diagnostic] = []
            let location = SourceLocation(path: sandbox.path, line: 1, column: 1)
            guard let chain = imageChain(name, from: location, &ignored),
                  let other = chain.reversed().lazy.compactMap(\.service).first,
                  other.engine == spec.engine, other.version != spec.version else { continue }
            var images: [ResolvedImage] = []
            for image in chain { images.append(resolveImage(image, base: images.last, sandbox: sandbox, &ignored)) }
            guard ignored.isEmpty, let top = images.last else { continue }
            let actions = chain.reduce(into: [String: ImageRecipe.Action]()) { all, recipe in all.merge(recipe.actions) { $1 } }
            found.append(EngineVersion(imageTag: top.tag, imageHash: top.hash, spec: other, actions: actions, images: images))
        }
        return found
    }

    /// What a service's `leases:` comes to: the databases named (or those its setup creates), the pool size (the image
    /// recipe's unless given) and the time to live. Nil, with a diagnostic, when its engine lends nothing or nothing is named.
    static func leaseSettings(_ leases: SandboxRecipe.Leases, service: SandboxRecipe.Service, image: String, spec: ServiceSpec,
                              setup: [ResolvedStep], _ diagnostics: inout [Diagnostic]) -> LeaseSettings? {
        guard let lending = spec.leases else {
            diagnostics.append(Diagnostic(leases.location, "image recipe '\(image)' does not say how its engine lends databases "
                                              + "(it has no 'service.leases'); the stock postgresql and mariadb recipes do"))
            return nil
        }
        let created = setup.filter { $0.action == "create-database" }.compactMap { step -> String? in
            guard let name = step.params["name"], name.references.isEmpty else { return nil }
            return try? name.render { _ in nil }
        }
        let databases = leases.databases ?? created
        guard !databases.isEmpty else {
            diagnostics.append(Diagnostic(leases.location, "service '\(service.name)' lends no database: its setup creates none by a plain name, "
                                              + "so name them, like 'leases: {databases: [app]}'"))
            return nil
        }
        return LeaseSettings(databases: databases, pool: leases.pool ?? lending.pool, ttl: leases.ttl ?? LeaseSettings.defaultTTL,
                             maxLent: leases.maxLent ?? LeaseSettings.defaultMaxLent)
    }

    /// The server a service's copies are made on: the same image, golden copy and update steps, its own container,
    /// data dir and port, and nothing else (no environment, no live folder), started after the service.
    static func leaseServer(for service: ResolvedService) -> ResolvedService {
        var server = service
        server.name = ResolvedService.leaseServer(of: service.name)
        server.hostPort = nil
        server.env = []
        server.live = nil
        server.dependsOn = [service.name]
        server.leases = nil
        server.lendsFor = service.name
        if let start = service.spec.leases?.start { server.spec.start = start }
        return server
    }

    /// The services a service waits for: its `depends-on`, then every service its `env` names, each once.
    static func dependencies(of service: SandboxRecipe.Service) -> [String] {
        var names = service.dependsOn.map(\.name)
        for entry in service.env {
            for reference in entry.value.references {
                let parts = reference.split(separator: ".", maxSplits: 1)
                if parts.count == 2, parts[0] != "env", parts[0] != service.name, !names.contains(String(parts[0])) { names.append(String(parts[0])) }
            }
        }
        return names
    }

    /// Every cycle among the services' dependencies, reported once at the first service on it, with the path.
    static func cycles(_ services: [SandboxRecipe.Service]) -> [Diagnostic] {
        let edges = Dictionary(uniqueKeysWithValues: services.map { ($0.name, dependencies(of: $0)) })
        var reported: Set<Set<String>> = []
        var found: [Diagnostic] = []
        for service in services {
            // Depth first from each service, looking for a way back to it.
            var stack: [(name: String, path: [String])] = [(service.name, [service.name])]
            var seen: Set<String> = []
            while let (name, path) = stack.popLast() {
                for next in edges[name] ?? [] {
                    if next == service.name {
                        let members = Set(path)
                        if reported.insert(members).inserted {
                            let via = service.dependsOn.first { $0.name == path.dropFirst().first ?? next }?.location ?? service.location
                            found.append(Diagnostic(via, "services depend on each other in a cycle: \((path + [next]).joined(separator: " -> ")); "
                                                        + "one of them must start without the other (drop a 'depends-on', or a reference in its 'env')"))
                        }
                    } else if seen.insert(next).inserted {
                        stack.append((next, path + [next]))
                    }
                }
            }
        }
        return found
    }

    /// The services in an order where each comes after those it depends on (the recipe's order otherwise).
    static func ordered(_ services: [ResolvedService]) -> [ResolvedService] {
        var out: [ResolvedService] = []
        var placed: Set<String> = []
        var rest = services
        while !rest.isEmpty {
            guard let index = rest.firstIndex(where: { $0.dependsOn.allSatisfy(placed.contains) }) else { return out + rest }
            placed.insert(rest[index].name)
            out.append(rest.remove(at: index))
        }
        return out
    }

    /// A live folder must be a folder of the checkout (links followed), never one outside it.
    func checkLive(_ live: SandboxRecipe.Live, service: SandboxRecipe.Service, _ diagnostics: inout [Diagnostic]) {
        let root = set.checkout.root
        switch ContainedPath.resolve(live.path, under: root, within: root) {
        case .success: break
        case let .failure(.escapes(real)):
            diagnostics.append(Diagnostic(service.location, "'live' path '\(live.path)' of service '\(service.name)' leads outside the checkout, to \(real)"))
        case .failure(.missing):
            diagnostics.append(Diagnostic(service.location, "'live' path '\(live.path)' of service '\(service.name)' does not exist in the checkout"))
        }
    }

    struct FreshKey: Encodable {
        var format: Int, image: String, initSteps: [String], user: String?, data: String?, setup: String, instanceBound: Bool
    }

    /// The recipes from the bottom base up to `name`, or nil with a diagnostic for a missing or cyclic reference.
    func imageChain(_ name: String, from location: SourceLocation, _ diagnostics: inout [Diagnostic]) -> [ImageRecipe]? {
        var chain: [ImageRecipe] = []
        var current = name
        var at = location
        while true {
            guard let recipe = set.images[current] else {
                if let broken = set.brokenImages[current] {
                    diagnostics.append(Diagnostic(at, "image recipe '\(current)' in \(broken) has errors (listed with it); fix them first"))
                    return nil
                }
                let known = set.images.keys.sorted()
                diagnostics.append(Diagnostic(at, "no image recipe '\(current)' in Images/ or the stock recipes"
                                                  + "\(didYouMean(current, among: known)); known: \(known.joined(separator: ", "))"))
                return nil
            }
            if chain.contains(where: { $0.name == recipe.name }) {
                let cycle = (chain.reversed().map(\.name) + [recipe.name]).joined(separator: " -> ")
                diagnostics.append(Diagnostic(at, "image recipes form a cycle: \(cycle); one of them must start from a base image"))
                return nil
            }
            chain.insert(recipe, at: 0)
            guard let from = recipe.from else { break }
            at = recipe.fromLocation ?? at
            if let next = baseRecipe(for: from) { current = next } else { break }
        }
        return chain
    }

    /// The recipe a `from:` names: another recipe by name, or the bootstrap recipe that provides an external image.
    func baseRecipe(for from: String) -> String? {
        if set.images[from] != nil { return from }
        if let r = set.images.values.first(where: { $0.bootstrap?.provides == from }) { return r.name }
        if !from.contains(":") && !from.contains("/") { return from } // a bare name must be a recipe: reported as missing
        return nil
    }

    struct ImageContent: Encodable {
        var format: Int
        var base: String
        var bootstrap: ImageRecipe.Bootstrap?
        var build: [ImageRecipe.BuildStep]
        var files: [String: String]
        var runAs: String?, data: String?, port: Int?, env: [String: String]?, start: String?, stopSignal: String?
        var entry: String
        /// The build context's files (path to hash) and the Dockerfile the project's own build uses.
        var context: [String: String]?
        var dockerfile: String?
    }

    func resolveImage(_ recipe: ImageRecipe, base: ResolvedImage?, sandbox: SandboxRecipe, _ diagnostics: inout [Diagnostic]) -> ResolvedImage {
        var files: [String: String] = [:]
        var fileHashes: [String: String] = [:]
        for step in recipe.build {
            guard case let .copy(src, _, _) = step, let dir = recipe.directory else { continue }
            // The real path, checked inside Images/ when the recipe was read: what the build copies is what was hashed.
            let full = ContainedPath.realPath((dir as NSString).appendingPathComponent(src)) ?? (dir as NSString).appendingPathComponent(src)
            files[src] = full
            fileHashes[src] = (try? ContentHash.of(file: full)) ?? "unreadable"
        }
        let baseName: String
        let baseRef: ResolvedImage.Base?
        if let base {
            baseName = base.hash
            baseRef = base.recipe.bootstrap != nil ? .external(base.tag) : .recipe(tag: base.tag)
        } else if let from = recipe.from {
            baseName = from
            baseRef = .external(from)
        } else {
            baseName = ""
            baseRef = nil
        }
        let s = recipe.service
        let context = buildContext(recipe, &diagnostics)
        var dockerfileHash: String?
        if let dockerfile = recipe.dockerfile {
            // Inside the context its content is among the context's files; outside it, it is hashed on its own.
            let path = set.checkout.root.appendingPathComponent(dockerfile).path
            dockerfileHash = dockerfile + ":" + ((try? ContentHash.of(file: path)) ?? "unreadable")
        }
        var content = ImageContent(format: Self.formatVersion, base: baseName, bootstrap: recipe.bootstrap, build: recipe.build,
                                   files: fileHashes, runAs: s?.runAs, data: s?.data, port: s?.port, env: s?.env,
                                   start: s?.start.raw, stopSignal: s?.stopSignal, entry: EntryScript.text,
                                   context: context?.files, dockerfile: dockerfileHash)
        var tag = recipe.bootstrap?.provides ?? "\(sandbox.owner)/\(recipe.name):\(sandbox.name)"
        // An image built from the checkout's own recipes and files may differ from branch to branch: a linked worktree (a
        // preview) tags its own (and every image built on one), so no worktree takes a tag from another between a build and
        // the container made from it. Stock recipes are the same in every worktree: their images are shared.
        let ownSuffix = "-" + set.checkout.id
        let onOwn = base.map { $0.tag.hasSuffix(ownSuffix) } ?? false
        let linked = set.checkout.goldenRoot.path != set.checkout.stateDirectory.appendingPathComponent("golden").path
        if recipe.bootstrap == nil, !recipe.path.hasPrefix("<stock>/") || onOwn, linked {
            tag += ownSuffix
        }
        var image = ResolvedImage(recipe: recipe, tag: tag, hash: ContentHash.of(content), base: baseRef, files: files, context: context)
        // For an instance that mounts a service's live folder over what the image copied: the hash of all but that
        // folder's files, so editing them asks for a restart, never a rebuild.
        if let context, let live = sandbox.services.first(where: { $0.image == recipe.name && $0.live != nil })?.live {
            content.context = context.files.filter { !Self.isUnder(context.display + "/" + $0.key, live.path) }
            image.liveHash = ContentHash.of(content)
        }
        return image
    }

    /// Whether a checkout path is `folder` or inside it (both as recipes write them, relative to the checkout).
    static func isUnder(_ path: String, _ folder: String) -> Bool {
        func clean(_ p: String) -> String {
            var parts = p.split(separator: "/").filter { $0 != "." }
            while parts.last == "" { parts.removeLast() }
            return parts.joined(separator: "/")
        }
        let f = clean(folder), p = clean(path)
        return f.isEmpty || p == f || p.hasPrefix(f + "/")
    }

    /// The checkout folder an image recipe builds from, read as the build will see it.
    func buildContext(_ recipe: ImageRecipe, _ diagnostics: inout [Diagnostic]) -> BuildContext? {
        guard let relative = recipe.context else { return nil }
        let root = set.checkout.root
        let at = SourceLocation(path: recipe.path, line: 1, column: 1)
        guard case let .success(real) = ContainedPath.resolve(relative, under: root, within: root) else {
            diagnostics.append(Diagnostic(at, "the build context '\(relative)' is not a folder inside the checkout"))
            return nil
        }
        switch BuildContext.read(real, display: relative) {
        case let .success(context): return context
        case let .failure(.tooMany(count)):
            diagnostics.append(Diagnostic(at, "the build context '\(relative)' holds more than \(count - 1) files; "
                                              + "leave out what the image does not need in \(relative)/.dockerignore (dependencies, build output, .git)"))
        case let .failure(.unreadable(path)):
            diagnostics.append(Diagnostic(at, "cannot read '\(path)' in the build context '\(relative)'; "
                                              + "make it readable, or leave it out in \(relative)/.dockerignore"))
        }
        return nil
    }
}
