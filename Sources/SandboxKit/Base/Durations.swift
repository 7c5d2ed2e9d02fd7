import Foundation

/// Lengths of time as people write them in recipes, flags and requests: `90`, `90s`, `10m`, `2h`, `1d`.
package enum Durations {
    /// Whole seconds, or nil when `text` is not a positive number with an optional unit (s, m, h, d).
    package static func seconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(text.trimmingCharacters(in: .whitespaces)), unit = 1
        if let last = number.last, let u = units[last] { number = number.dropLast(); unit = u }
        guard !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber), number.count <= 9,
              let value = Int(number), value > 0 else { return nil }
        return value * unit
    }

    /// `10m`, `2h`, `45s`: the shortest exact way to write `seconds`.
    package static func text(_ seconds: Int) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
