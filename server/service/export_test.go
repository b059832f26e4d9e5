package service

import "github.com/google/uuid"

// SetAgentWorkWaiting makes s call f each time a long poll of an agent
// has looked at the database and starts to wait.
func SetAgentWorkWaiting(s *Service, f func(agent uuid.UUID)) { s.fleet.waiting = f }
