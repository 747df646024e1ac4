import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Creates the data directory before SQLite opens a file in it, with errors that name the path
/// and the reason (SQLite would only say "unable to open database file").
package enum DataDirectory {
    /// Creates `path` and any missing parents, as `mkdir -p` does. New folders get mode 0700:
    /// the directory holds users' roles and group memberships (and, for PalisadeDocuments, the
    /// users' documents). Blocks on the file system.
    package static func create(_ path: String) throws(SQLiteFailure) {
        guard !path.isEmpty else { throw SQLiteFailure(status: SQLITE_CANTOPEN, message: "the data directory path is empty") }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/" + component
            if mkdir(prefix, 0o700) == 0 { continue }
            let reason = errno
            guard reason == EEXIST else {
                throw SQLiteFailure(status: SQLITE_CANTOPEN, message: "cannot create data directory \(prefix): \(describe(reason))")
            }
            var status = stat()
            guard stat(prefix, &status) == 0 else {
                throw SQLiteFailure(status: SQLITE_CANTOPEN, message: "cannot read data directory \(prefix): \(describe(errno))")
            }
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw SQLiteFailure(status: SQLITE_CANTOPEN, message: "data directory \(prefix) exists and is not a directory")
            }
        }
    }

    private static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
