/// The intake's error: one line that says what is wrong (the CLI prints it, the API answers it).
public struct IntakeError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ d: String) { description = d }

    /// Input that is not a mail message at all: the MTA should bounce it (EX_DATAERR).
    public static let notAMessage = IntakeError("the input is not a mail message (no header fields)")
}
