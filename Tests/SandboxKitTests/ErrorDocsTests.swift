import Foundation
import Testing
@testable import SandboxBase

/// docs/errors.md lists every error code the tool has, and no code it does not have.
@Suite struct ErrorDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyCodeIsDocumentedWithCauseAndFix() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/errors.md"), encoding: .utf8)
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("| `") }
        var statuses: [String: Int] = [:]
        let documented = rows.compactMap { row -> String? in
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 4, cells.allSatisfy({ !$0.isEmpty }) else { return nil }
            let code = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            statuses[code] = Int(cells[1])
            return code
        }
        #expect(documented.count == rows.count, "every row has a code, an HTTP status, a cause and a fix")
        #expect(documented.sorted() == SandboxError.Code.allCases.map(\.rawValue).sorted())
        for code in SandboxError.Code.allCases { #expect(statuses[code.rawValue] == code.httpStatus, "\(code.rawValue)") }
    }
}
