/// Why a JSON text was refused. `offset` is the byte where parsing stopped.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case unexpectedEnd = "unexpected end of input"
        case unexpectedByte = "unexpected byte"
        case invalidNumber = "invalid number"
        case invalidEscape = "invalid escape"
        case invalidUTF8 = "invalid UTF-8"
        case controlCharacterInString = "control character in string"
        case tooDeep = "nesting too deep"
        case trailingData = "data after the JSON value"
    }

    public var kind: Kind
    public var offset: Int

    public var description: String { "\(kind.rawValue) at byte \(offset)" }
}
