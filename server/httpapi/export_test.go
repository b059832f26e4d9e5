package httpapi

// AgentRequestsQueued is how many agent requests wait for their turn
// (shed.go), for tests that must know a request is queued.
func AgentRequestsQueued(s *Server) int { return len(s.agentQueue) }
