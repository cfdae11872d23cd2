import Essentials
import GRPCCore
import SwitchboardProtocol

/// The Location service: positions per user and nearby queries by great-circle distance.
/// A nearby query is bounded (radius and limit capped), so it can never list everyone.
/// It authorises by the caller's id, as a backend must: a user reads their own exact
/// position; anyone else's only coarsely (to 0.01°, about a kilometre, and distances to
/// the next 100 m), so no caller can track another user to the metre.
struct LocationBackend: Switchboard_Location_V1_LocationService.ServiceProtocol {
    let store = LocationStore()
    static let maxRadiusMeters = 50_000.0
    static let maxNearby = 100

    /// What `caller` may see of `location`: all of their own, a coarse copy of another's.
    static func visible(_ location: Switchboard_Location_V1_UserLocation, to caller: String) -> Switchboard_Location_V1_UserLocation {
        guard location.user != caller else { return location }
        var coarse = location
        coarse.latitude = (location.latitude * 100).rounded() / 100
        coarse.longitude = (location.longitude * 100).rounded() / 100
        coarse.distanceMeters = (location.distanceMeters / 100).rounded(.up) * 100
        return coarse
    }

    func updateLocation(
        request: ServerRequest<Switchboard_Location_V1_UpdateLocationRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Location_V1_UpdateLocationResponse> {
        let user = try CallerIdentity.user(of: request.metadata)
        let position = request.message
        guard (-90...90).contains(position.latitude) else {
            throw RPCError(code: .invalidArgument, message: "latitude must be within -90...90")
        }
        guard (-180...180).contains(position.longitude) else {
            throw RPCError(code: .invalidArgument, message: "longitude must be within -180...180")
        }
        let now = WallClock.milliseconds
        await store.update(user, latitude: position.latitude, longitude: position.longitude, at: now)
        var response = Switchboard_Location_V1_UpdateLocationResponse()
        response.updatedAtMs = now
        return ServerResponse(message: response)
    }

    func getLocation(
        request: ServerRequest<Switchboard_Location_V1_GetLocationRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Location_V1_UserLocation> {
        let caller = try CallerIdentity.user(of: request.metadata)
        try CallerIdentity.check(request.message.user, field: "user")
        guard let location = await store.location(of: request.message.user) else {
            throw RPCError(code: .notFound, message: "no location known for that user")
        }
        return ServerResponse(message: Self.visible(location, to: caller))
    }

    func nearby(
        request: ServerRequest<Switchboard_Location_V1_NearbyRequest>, context: ServerContext
    ) async throws -> ServerResponse<Switchboard_Location_V1_NearbyResponse> {
        let caller = try CallerIdentity.user(of: request.metadata)
        let query = request.message
        guard query.radiusMeters > 0, query.radiusMeters.isFinite else {
            throw RPCError(code: .invalidArgument, message: "radiusMeters must be positive")
        }
        guard query.radiusMeters <= Self.maxRadiusMeters else {
            throw RPCError(code: .invalidArgument, message: "radiusMeters is at most \(Int(Self.maxRadiusMeters))")
        }
        guard (-90...90).contains(query.latitude), (-180...180).contains(query.longitude) else {
            throw RPCError(code: .invalidArgument, message: "latitude must be within -90...90 and longitude within -180...180")
        }
        var response = Switchboard_Location_V1_NearbyResponse()
        response.users = await store.near(
            latitude: query.latitude, longitude: query.longitude, radius: query.radiusMeters,
            limit: min(query.limit > 0 ? Int(query.limit) : 50, Self.maxNearby)
        ).map { Self.visible($0, to: caller) }
        return ServerResponse(message: response)
    }
}
