/// Reads the modules of the policies and plugins folders: every `*.lua` file, policies
/// first, each folder in file-name order (`10-auth.lua` before `20-access.lua`).
/// Blocking file I/O: call it off the event loops (reload runs it on a thread pool).
public enum PolicyLoader {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(directories: [String]) throws(Failure) -> [PolicySource] {
        var sources: [PolicySource] = []
        var seen: Set<String> = []
        for directory in directories {
            for file in try luaFiles(in: directory) {
                let path = directory.hasSuffix("/") ? directory + file : directory + "/" + file
                let name = String(file.dropLast(4))
                guard seen.insert(name).inserted else {
                    throw Failure(description: "\(path): a module named \(name) is already loaded from another folder")
                }
                guard let code = readFile(path) else { throw Failure(description: "\(path): cannot be read") }
                sources.append(PolicySource(name: name, path: path, code: code))
            }
        }
        return sources
    }

    /// `*.lua` names in `directory`, sorted; a missing folder has none.
    static func luaFiles(in directory: String) throws(Failure) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name.hasSuffix(".lua"), !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if count < chunk.count { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
