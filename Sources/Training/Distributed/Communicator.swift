import Foundation

/// The processes of a data-parallel run and the collective operations the trainer needs: every rank
/// computes its share of each step's passes, then one sum over all ranks makes the gradient (and the
/// step's loss) the whole batch's, identical everywhere. `SingleProcess` is the one-process world;
/// `MPICommunicator` spans the ranks of an `mpirun` job.
public protocol Communicator: AnyObject {
    /// This process's index, 0..<size. Rank 0 alone writes checkpoints, the metrics log and the model.
    var rank: Int { get }
    /// Number of processes.
    var size: Int { get }
    /// Replaces `buffer[0..<count]` with its element-wise sum over all ranks.
    func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws
    /// Replaces `values` with their element-wise sum over all ranks.
    func allreduceSum(_ values: inout [Double]) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends every rank of the job with `code` (a rank that fails alone must not leave the others
    /// waiting in a collective forever).
    func abort(code: Int32) -> Never
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    /// The part of `0..<count` this rank works on: contiguous, in rank order, sizes differing by at most
    /// one with the larger parts first (7 over 2 ranks: 0..<4, 4..<7). A rank may get an empty part.
    public func share(of count: Int) -> Range<Int> {
        Self.share(of: count, rank: rank, size: size)
    }

    public static func share(of count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }
}

/// One process: the sums are the identity, barriers return at once.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func allreduceSum(_ values: inout [Double]) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}
