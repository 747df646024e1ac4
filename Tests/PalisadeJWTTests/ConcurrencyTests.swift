import PalisadeJWT
import Testing

@Suite struct ConcurrencyTests {
    /// Keys are shared by every event loop: one `JWTKey` must verify from many threads at once.
    @Test func oneKeyVerifiesFromManyTasksAtOnce() async throws {
        let cases = ["HS256", "RS256", "PS256", "ES256", "EdDSA-Ed25519"]
        let keys = try cases.map { caseName throws(JWTError) in try Fixtures.verifyingKey(caseName) }
        let failures = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var failures = 0
                    for round in 0..<40 {
                        let index = (worker + round) % cases.count
                        let token = Fixtures.token(cases[index], round % 2 == 0 ? "valid" : "tampered_signature")
                        let verified = (try? verify(token, keys: [keys[index]], algorithms: [Fixtures.algorithm(cases[index])])) != nil
                        if verified != (round % 2 == 0) { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }
}
