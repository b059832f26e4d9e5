package core

import (
	"time"

	"github.com/google/uuid"
)

// Page bounds a list: at most Limit items after the item with ID After
// (before it, for lists in descending order).
type Page struct {
	Limit int
	After *uuid.UUID
}

// Page size limits.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// CertificateFilter selects managed certificates.
type CertificateFilter struct {
	Page
	Status         string
	IssuerID       *uuid.UUID
	TargetID       *uuid.UUID
	ExpiringBefore *time.Time
	NamePrefix     string
	// DeploymentHealth is one of DeploymentHealthFilters, or "".
	DeploymentHealth string
}

// AgentFilter selects agents.
type AgentFilter struct {
	Page
	Status string
	OS     string
	Arch   string
}

// TargetFilter selects targets.
type TargetFilter struct {
	Page
	Type    string
	AgentID *uuid.UUID
}

// IssuerFilter selects issuers.
type IssuerFilter struct {
	Page
	Type string
}

// NotifierFilter selects notifiers.
type NotifierFilter struct {
	Page
	Type string
}

// AuditFilter selects audit events; lists are newest first.
type AuditFilter struct {
	Page
	Actor        string
	Action       string
	ResourceType string
	ResourceID   string
	Outcome      string
	Since        *time.Time
	Until        *time.Time
}
