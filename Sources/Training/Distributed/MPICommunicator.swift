import CMPIShim
import Foundation

/// The ranks of an Open MPI job (`mpirun -np N mrc-distill train …`), through `CMPIShim`, which loads
/// libmpi.so.40 at run time: the package builds without MPI, and only a run that asks for MPI needs it.
///
/// Errors on MPI_COMM_WORLD are fatal (Open MPI's default MPI_ERRORS_ARE_FATAL): a collective that
/// fails ends the job, and `mpirun` ends every rank when one dies, so no rank waits forever.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private var finalized = false

    /// Initialises MPI (once per process). Throws a `TrainingError` naming what is missing when
    /// libmpi cannot be loaded or initialised.
    public init() throws {
        guard mrc_mpi_init() == 0 else {
            throw TrainingError.invalidArgument("--distributed mpi: \(String(cString: mrc_mpi_error())); "
                                                + "install Open MPI (make setup installs libopenmpi-dev and openmpi-bin) "
                                                + "and start the job with mpirun (scripts/mpirun-local)")
        }
        var rank: Int32 = 0, size: Int32 = 0
        try MPICommunicator.check(mrc_mpi_rank(&rank))
        try MPICommunicator.check(mrc_mpi_size(&size))
        self.rank = Int(rank)
        self.size = Int(size)
    }

    private static func check(_ code: Int32) throws {
        guard code == 0 else { throw TrainingError.io("MPI: \(String(cString: mrc_mpi_error()))") }
    }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try MPICommunicator.check(mrc_mpi_allreduce_sum_float(buffer, count))
    }

    public func allreduceSum(_ values: inout [Double]) throws {
        let count = values.count
        try values.withUnsafeMutableBufferPointer { try MPICommunicator.check(mrc_mpi_allreduce_sum_double($0.baseAddress, count)) }
    }

    public func barrier() throws { try MPICommunicator.check(mrc_mpi_barrier()) }

    public func abort(code: Int32) -> Never {
        mrc_mpi_abort(code)
        exit(code)
    }

    /// MPI_Finalize: call once, after the last collective, on every rank.
    public func finalize() throws {
        guard !finalized else { return }
        finalized = true
        try MPICommunicator.check(mrc_mpi_finalize())
    }
}
