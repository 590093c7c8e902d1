#if canImport(Glibc)
    import Glibc
#endif

/// Milliseconds since 1970 by the wall clock.
public func currentMilliseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
}
