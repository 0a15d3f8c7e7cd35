package auth

// StoreReads is how many times the Auth read a session's tokens or a user's sessions from
// the store.
func (a *Auth) StoreReads() int64 { return a.storeReads.Load() }
