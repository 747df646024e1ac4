/// Random identifiers: 15 random bytes as URL-safe base64, 20 characters of `[A-Za-z0-9_-]`
/// (the python client puts the sid into URLs without percent-encoding it).
enum RandomID {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        for _ in 0..<5 {
            let chunk = (generator.next() as UInt32) & 0xFF_FFFF  // 24 bits → 4 characters
            for shift in stride(from: 18, through: 0, by: -6) {
                bytes.append(alphabet[Int(chunk >> UInt32(shift) & 63)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
