/// Stream entry ids: `<milliseconds>-<sequence>`.
public enum StreamID {
    /// True when `id` has the shape of an entry id (a listing's cursor, a dead letter's id): digits,
    /// a dash, digits, and not `0-0`, which no entry has and which is no valid exclusive bound.
    public static func isValid(_ id: String) -> Bool {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        // UInt64("+1") is 1; an entry id is digits only.
        let numbers = parts.compactMap { part in
            (1...19).contains(part.utf8.count) && part.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
                ? UInt64(part) : nil
        }
        return parts.count == 2 && numbers.count == 2 && numbers != [0, 0]
    }

    /// The milliseconds part of an entry id (Redis's clock when the entry was added); 0 when malformed.
    public static func milliseconds(_ id: String) -> Int64 {
        Int64(id.prefix { $0 != "-" }) ?? 0
    }

    /// True when entry id `a` comes before `b` (both valid ids): by milliseconds, then sequence.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        func parts(_ id: String) -> (UInt64, UInt64) {
            let split = id.split(separator: "-")
            return (UInt64(split.first ?? "") ?? 0, UInt64(split.last ?? "") ?? 0)
        }
        return parts(a) < parts(b)
    }
}
