import Foundation

/// Texts for people about recipes that more than one place prints (check time and run time), kept together
/// so the same problem always reads the same way.
package enum RecipeMessages {
    /// What an `identifier` parameter accepts.
    package static let identifierRule = "use letters, digits and '_' (up to 63), starting with a letter or '_'"

    package static let nameRule = "use 1 to 63 characters, none a control character, not starting with '-'"
    package static let nulRule = "remove the NUL character: no command can carry one"

    static func invalidName(_ value: String, param: String, action: String) -> String {
        "'\(value.prefix(80))' is not a valid name for parameter '\(param)' of action '\(action)'"
    }

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

    /// What a failed read says, in the project's words: the system's reason (permission denied, …), never a library's
    /// error domain and number.
    static func unreadable(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let code = underlying?.domain == NSPOSIXErrorDomain ? underlying?.code : nil {
            return String(cString: strerror(Int32(code))).lowercased() + "; make it readable by you, or move it out of the folder"
        }
        switch (error as NSError).code {
        case NSFileReadNoPermissionError: return "permission denied; make it readable by you, or move it out of the folder"
        case NSFileReadNoSuchFileError: return "it is gone (deleted while it was being read)"
        default: return "it cannot be read as a file; make it a readable file, or move it out of the folder"
        }
    }
}
