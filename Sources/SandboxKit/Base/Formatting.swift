/// Numbers as text, without `String(format:)`: Foundation's on Linux is not safe to call from two threads at once
/// (the unit suite crashed inside it, with `ContentHash` and `TerminalReporter` running side by side), and `serve`
/// formats on many threads.
package enum Formatting {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex, two digits a byte: digests, tokens, signatures.
    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` in lower-case hex, left-padded with zeros to `width`.
    package static func hex(_ value: UInt64, width: Int) -> String { padded(String(value, radix: 16), width) }

    /// `value` in decimal, left-padded with zeros to `width`.
    package static func decimal(_ value: UInt64, width: Int) -> String { padded(String(value), width) }

    /// `value` rounded to `places` decimal places (0...6): "1.5", "12", "-0.3".
    package static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return String(value) }
        let places = min(max(places, 0), 6)
        var scale: Double = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return String(value) }
        let units = UInt64(scaled), whole = units / UInt64(scale), fraction = units % UInt64(scale)
        let sign = value < 0 && units > 0 ? "-" : ""
        return places == 0 ? "\(sign)\(whole)" : "\(sign)\(whole)." + padded(String(fraction), places)
    }

    private static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
