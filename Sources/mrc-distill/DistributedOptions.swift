import ArgumentParser
import Foundation
import Kernels
import Training

/// How `train` and `distill` spread over processes: one process (the default), or the ranks of an
/// Open MPI job (`mpirun -np N mrc-distill train … `, see docs/SCALING.md), each with its share of
/// every batch and one gradient allreduce per step.
struct DistributedOptions: ParsableArguments {
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        /// MPI when started by Open MPI's mpirun (OMPI_COMM_WORLD_SIZE is set), else one process.
        case auto
        case none
        case mpi
    }

    @Option(help: ArgumentHelp("Data parallelism: mpi (one rank per process of an mpirun job), none, or auto (mpi under "
                               + "Open MPI's mpirun, else none).", valueName: "auto|none|mpi"))
    var distributed: Mode = .auto
    @Option(help: "Kernel worker threads per process (default: every core; 1 per rank under MPI).")
    var threads: Int?

    /// The world size Open MPI's mpirun announces to its ranks, nil outside mpirun.
    static var mpirunSize: Int? { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap { Int($0) } }

    func validateDistributed() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if distributed == .none, let size = Self.mpirunSize, size > 1 {
            throw ValidationError("--distributed none under mpirun with \(size) processes: every rank would train alone "
                                  + "and write the same --out; use --distributed mpi (or auto)")
        }
    }

    /// Starts the chosen world (MPI_Init under MPI) and sets the kernels' thread count; messages go
    /// to stderr from rank 0 alone from here on.
    func start() throws -> Communicator {
        let useMPI = distributed == .mpi || (distributed == .auto && Self.mpirunSize != nil)
        let communicator: Communicator
        if useMPI {
            communicator = try MPICommunicator()
        } else {
            communicator = SingleProcess()
        }
        if let threads { Parallelism.workers = threads } else if useMPI { Parallelism.workers = 1 }
        reportingRank = communicator.rank
        if communicator.size > 1 {
            report("data parallel: \(communicator.size) MPI ranks, \(Parallelism.workers) thread(s) each")
        }
        return communicator
    }

    /// Runs `body` (the whole training command) on every rank. Under MPI an error on any rank is printed
    /// with its rank and ends the whole job (MPI_Abort), so no rank waits in a collective for a rank that
    /// has given up; a success finalizes MPI.
    func run(_ body: (Communicator) async throws -> Void) async throws {
        let communicator = try start()
        guard let mpi = communicator as? MPICommunicator else { return try await body(communicator) }
        do {
            try await body(communicator)
            try mpi.finalize()
        } catch {
            FileHandle.standardError.write(Data("Error on MPI rank \(mpi.rank) of \(mpi.size): \(error); ending the job\n".utf8))
            mpi.abort(code: 1)
        }
    }
}
