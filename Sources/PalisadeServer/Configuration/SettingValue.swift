/// A value found for one setting, with where it came from.
///
/// Every source hands over text (or, from a YAML/JSON list, a list of texts), and every parse
/// goes through here, so a bad value reads the same whichever source it came from and the
/// error names the setting and its origin.
struct SettingValue: Sendable, Equatable {
    enum Raw: Sendable, Equatable {
        case text(String)
        case list([String])
    }

    var key: String
    var raw: Raw
    /// An environment variable name, `the command line` or `config file PATH`.
    var origin: String
    /// Secret values (tokens, keys, URLs with passwords) are never echoed in errors.
    var isSecret: Bool = false

    func invalid(_ expected: String) -> ConfigurationError {
        var shown = ""
        if !isSecret {
            switch raw {
            case .text(let text): shown = " \"\(text)\""
            case .list(let items): shown = " \"\(items.joined(separator: ","))\""
            }
        }
        return ConfigurationError(
            code: .invalidValue,
            key: key,
            source: origin,
            message: "invalid value\(shown) for \(key) (from \(origin)): expected \(expected)"
        )
    }

    /// The value as one trimmed string; a list is refused.
    func text(expected: String) throws -> String {
        switch raw {
        case .text(let text): return Self.trim(text)
        case .list(let items) where items.count == 1: return Self.trim(items[0])
        case .list: throw invalid(expected)
        }
    }

    /// Non-empty, no whitespace inside: host names, prefixes, tokens.
    func word(expected: String) throws -> String {
        let value = try text(expected: expected)
        guard !value.isEmpty, !value.contains(where: \.isWhitespace) else { throw invalid(expected) }
        return value
    }

    /// Non-empty (whitespace inside allowed): directories.
    func nonEmpty(expected: String) throws -> String {
        let value = try text(expected: expected)
        guard !value.isEmpty else { throw invalid(expected) }
        return value
    }

    /// A list from a YAML/JSON list or from text split at any of `separators`; items trimmed, empty ones dropped.
    func items(separators: Set<Character> = [","]) -> [String] {
        let pieces: [Substring]
        switch raw {
        case .text(let text): pieces = text.split(whereSeparator: separators.contains)
        case .list(let items): pieces = items.flatMap { $0.split(whereSeparator: separators.contains) }
        }
        return pieces.map { Self.trim($0) }.filter { !$0.isEmpty }
    }

    func integer(in range: ClosedRange<Int>, expected: String) throws -> Int {
        guard let value = Int(try text(expected: expected)), range.contains(value) else {
            throw invalid(expected)
        }
        return value
    }

    /// A byte count > 0.
    func byteCount() throws -> Int {
        try integer(in: 1...Int.max, expected: "a number of bytes > 0")
    }

    /// Seconds, fractional allowed (Open WebUI's settings are seconds).
    ///
    /// At most a day: every timer of the server is far shorter, and the bound keeps the
    /// conversion to milliseconds and NIO time amounts clear of overflow.
    func seconds(allowZero: Bool = false) throws -> Double {
        let expected = allowZero ? "a number of seconds >= 0" : "a number of seconds > 0"
        guard let value = Double(try text(expected: expected)), value.isFinite, allowZero ? value >= 0 : value > 0
        else { throw invalid(expected) }
        guard value <= 86_400 else { throw invalid(expected + " and at most 86400") }
        return value
    }

    /// Seconds given by the operator, stored as whole milliseconds (at least 1).
    func milliseconds() throws -> Int {
        let milliseconds = Int((try seconds() * 1000).rounded())
        guard milliseconds >= 1 else { throw invalid("a number of seconds >= 0.001") }
        return milliseconds
    }

    /// One of `choices`, compared case-insensitively (Open WebUI writes `INFO`); returns the lower-case form.
    func choice(_ choices: [String]) throws -> String {
        let expected = "one of " + choices.joined(separator: "|")
        let value = try text(expected: expected).lowercased()
        guard choices.contains(value) else { throw invalid(expected) }
        return value
    }
}

extension SettingValue {
    /// `text` without leading and trailing whitespace (env files often leave a stray space or newline).
    static func trim(_ text: some StringProtocol) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(text[first...last])
    }
}
