import PalisadeJSON

/// The strict JSON reader; what it accepts, the writer must write as text it reads back the same.
enum JSONTarget {
    static func run(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        let text = JSONWriter.string(value)
        let again = try? JSONParser.parse(text)
        check(again == value, "\(value) is written as \(text), which reads back as \(String(describing: again))")
    }
}
