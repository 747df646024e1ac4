#include <sqlite3.h>

/// `sqlite3_bind_text` with `SQLITE_TRANSIENT` (SQLite copies the text before returning).
/// The macro is a cast of -1 to a function pointer, which Swift cannot import.
static inline int palisade_sqlite3_bind_text_transient(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}
