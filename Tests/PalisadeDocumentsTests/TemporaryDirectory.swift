#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fresh folder under /tmp for `body`, removed (with what is in it) afterwards.
func withTemporaryDirectory<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    var template = Array("/tmp/palisade-documents-XXXXXX".utf8CString)
    guard let created = mkdtemp(&template) else {
        throw TestFailure("mkdtemp failed: errno \(errno)")
    }
    let folder = String(cString: created)
    defer { removeTree(folder) }
    return try await body(folder)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Removes `path` and everything under it (what the tests create: folders and plain files).
func removeTree(_ path: String) {
    if let directory = opendir(path) {
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            removeTree(path + "/" + name)
        }
        closedir(directory)
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// Writes `text` to a new file at `path`, replacing any.
func writeFile(_ path: String, _ text: String) throws {
    guard let file = fopen(path, "w") else { throw TestFailure("cannot write \(path)") }
    defer { fclose(file) }
    _ = fputs(text, file)
}

func fileExists(_ path: String) -> Bool {
    access(path, F_OK) == 0
}
