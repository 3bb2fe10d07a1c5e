import Foundation

/// Whether `condition` became true within `seconds`, asking every 50 ms. Tests wait for a change
/// this way rather than sleeping a fixed time: a loaded machine is slower, never wrong.
public func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if try condition() { return true }
        if Date() >= deadline { return false }
        usleep(50_000)
    }
}
