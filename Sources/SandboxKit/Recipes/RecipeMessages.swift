import Foundation

/// Texts for people about recipes that more than one place prints (check time and run time), kept together
/// so the same problem always reads the same way.
package enum RecipeMessages {
    /// What an `identifier` parameter accepts.
    package static let identifierRule = "use letters, digits and '_' (up to 63), starting with a letter or '_'"

    static func invalidIdentifier(_ value: String, param: String, action: String) -> String {
        "'\(value)' is not a valid identifier for parameter '\(param)' of action '\(action)'"
    }

    static func passwordInContainerConfig(_ key: String) -> String {
        "'\(key)' must not use {password}: it becomes part of the container's configuration, which `docker inspect` shows; "
            + "inside the container, connect over the socket with trust or peer authentication, as the stock recipes do"
    }

    static func noQuoting(_ reference: Template.Reference, engine: String) -> String {
        "'\(reference.text)' quotes for SQL, but the service (engine '\(engine)') declares no SQL quoting; "
            + "say how under 'service.sql' (docs/recipes.md, \"SQL quoting\"), or drop the filter"
    }

    static let sqlFilterInSandboxRecipe = "SQL filters belong in image recipes, whose actions quote their parameters for their engine; pass the plain value"
}
