import Foundation
#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// BLAS runtime control: thread count and, for OpenBLAS, the choice of its compute kernels.
///
/// OpenBLAS runs many small matmuls erratically on 2 threads, so attention runs its (batch, head)
/// loop on `Parallelism.workers` workers with single-threaded BLAS inside.
///
/// OpenBLAS 0.3.21 (Debian 12) picks its kernels from the CPU model number; on CPUs newer than it
/// knows (Sapphire Rapids, as virtual machines report it) it falls back to the generic SSE3
/// "Prescott" kernels, 3.7× slower (28 vs 103 GFLOP/s per core measured). `ensureKernels()`, run
/// before the first matmul, re-selects them from the CPU's feature flags unless the user chose a
/// core with `OPENBLAS_CORETYPE`.
public enum BLAS {
    /// Sets the number of threads BLAS uses for one call (no-op where the BLAS has no such control).
    public static func setThreads(_ count: Int) {
        #if !canImport(Accelerate) && canImport(CBLAS)
        openblas_set_num_threads(Int32(max(1, count)))
        #endif
    }

    /// The number of threads BLAS currently uses for one call (1 where it cannot be asked).
    public static var threads: Int {
        #if !canImport(Accelerate) && canImport(CBLAS)
        return Int(openblas_get_num_threads())
        #else
        return 1
        #endif
    }

    /// Runs `body` with BLAS single-threaded, restoring the previous thread count afterwards.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let previous = threads
        if previous != 1 { setThreads(1) }
        defer { if previous != 1 { setThreads(previous) } }
        return try body()
    }

    /// Waits until OpenBLAS's own threads, started with the library, have stopped spinning: they poll for work with
    /// sched_yield for 2²⁸ TSC cycles by default (0.1 s at 2.6 GHz; `OPENBLAS_THREAD_TIMEOUT` changes it) before they
    /// sleep, after the library starts and after each call it runs on them, and on a 2-core machine take a share of
    /// the cores meanwhile (a kernel timed then ran at 0.4× its rate). A benchmark calls this before timing anything;
    /// the kernels never call OpenBLAS threaded (`parallelGemm`) unless told to (`Parallelism.splitsMatmuls` off), so
    /// the threads sleep from then on. Returns at once for another BLAS.
    public static func waitForIdleThreads(seconds: Double = 0.3) {
        guard coreName != nil, let alive = secondsSinceProcessStart(), alive < seconds else { return }
        Thread.sleep(forTimeInterval: seconds - alive)
    }

    /// Seconds since this process started (Linux: /proc/self/stat's start time against /proc/uptime), or nil.
    static func secondsSinceProcessStart() -> Double? {
        // Read as bytes: the command name in it may end inside a UTF-8 character (cut to 15 bytes).
        guard let statBytes = try? Data(contentsOf: URL(fileURLWithPath: "/proc/self/stat")),
              let uptimeBytes = try? Data(contentsOf: URL(fileURLWithPath: "/proc/uptime")) else { return nil }
        let stat = String(decoding: statBytes, as: UTF8.self), uptime = String(decoding: uptimeBytes, as: UTF8.self)
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // Field 22 (starttime, clock ticks since boot) is the 20th after the command name's closing parenthesis.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]), let up = Double(uptime.split(separator: " ")[0]) else { return nil }
        return up - ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The OpenBLAS kernel set in use (e.g. "Cooperlake"), or nil for another BLAS.
    public static var coreName: String? {
        _ = kernelsSelected
        guard let corename: @convention(c) () -> UnsafePointer<CChar>? = symbol("openblas_get_corename"),
              let name = corename() else { return nil }
        return String(cString: name)
    }

    /// Makes sure OpenBLAS uses kernels for this CPU (see the type's documentation); idempotent.
    @inline(__always)
    public static func ensureKernels() { _ = kernelsSelected }

    private static let kernelsSelected: Bool = selectKernels()

    /// OpenBLAS's generic fallbacks, which it picks for CPUs it does not recognise.
    private static let genericCores: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai",
                                                    "Coppermine", "Northwood", "Banias", "Atom"]

    private static func selectKernels() -> Bool {
        #if os(Linux) && !canImport(Accelerate)
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let corename: @convention(c) () -> UnsafePointer<CChar>? = symbol("openblas_get_corename"),
              let current = corename().map({ String(cString: $0) }), genericCores.contains(current),
              let wanted = coreForThisCPU(),
              let reinitialise: @convention(c) () -> Void = symbol("gotoblas_dynamic_init"),
              let table = dlsym(nil, "gotoblas")?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        else { return false }
        // gotoblas_dynamic_init returns early while a kernel table is set; it then reads OPENBLAS_CORETYPE.
        setenv("OPENBLAS_CORETYPE", wanted, 0)
        let previous = table.pointee
        table.pointee = nil
        reinitialise()
        if table.pointee == nil { table.pointee = previous }
        return true
        #else
        return false
        #endif
    }

    /// The best OpenBLAS core name for this CPU's features (Linux /proc/cpuinfo), or nil.
    static func coreForThisCPU() -> String? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"].allSatisfy(flags.contains) { return "Cooperlake" }
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// A C function of the loaded libraries by name, or nil.
    private static func symbol<F>(_ name: String) -> F? {
        #if os(Linux) || canImport(Darwin)
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(address, to: F.self)
        #else
        return nil
        #endif
    }
}
