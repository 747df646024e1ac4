/// State that core handlers keep per socket, one object per type. Lives on the socket's loop.
public struct SocketAttachments {
    private var objects: [ObjectIdentifier: AnyObject] = [:]

    public init() {}

    /// The attached object of type `T`, created by `make` on first use.
    public mutating func get<T: AnyObject>(_ type: T.Type, orMake make: () -> T) -> T {
        if let existing = objects[ObjectIdentifier(type)] as? T { return existing }
        let created = make()
        objects[ObjectIdentifier(type)] = created
        return created
    }

    /// The attached object of type `T`, if any.
    public func get<T: AnyObject>(_ type: T.Type) -> T? {
        objects[ObjectIdentifier(type)] as? T
    }
}
