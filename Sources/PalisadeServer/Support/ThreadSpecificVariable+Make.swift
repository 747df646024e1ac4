import NIOPosix

extension ThreadSpecificVariable {
    /// This thread's value, made by `make` the first time the thread asks.
    func currentValue(orMake make: () -> Value) -> Value {
        if let value = currentValue { return value }
        let value = make()
        currentValue = value
        return value
    }
}
