package plugin

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// errorDomain marks statuses made by a plugin from an *Error, so that the
// host can tell them from statuses made by gRPC itself (a broken
// connection when the plugin died).
const errorDomain = "certctl.plugin"

// codeToGRPC maps certctl plugin error codes to gRPC codes, for clients
// in other languages that read only the gRPC code.
var codeToGRPC = map[string]codes.Code{
	CodeInvalidConfig: codes.InvalidArgument,
	CodeInvalidInput:  codes.OutOfRange,
	CodeNotFound:      codes.NotFound,
	CodeTransient:     codes.Unavailable,
	CodePermanent:     codes.FailedPrecondition,
	CodeUnimplemented: codes.Unimplemented,
	CodeUnavailable:   codes.Unavailable,
	CodeDeadline:      codes.DeadlineExceeded,
	CodeCanceled:      codes.Canceled,
}

// toStatus encodes a plugin's error for the wire (plugin side): the gRPC
// code, an ErrorInfo detail with the certctl code, and a BadRequest detail
// naming the configuration field when there is one.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code := ErrorCode(err)
	msg := err.Error()
	var e *Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: code, Domain: errorDomain}}
	if e != nil && e.Field != "" {
		details = append(details, &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: e.Field, Description: e.Message}},
		})
	}
	if e != nil && e.RetryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	}
	st, derr := status.New(codeToGRPC[code], msg).WithDetails(details...)
	if derr != nil {
		return status.Error(codeToGRPC[code], msg)
	}
	return st.Err()
}

// fromStatus decodes an error from the wire (host side) into an *Error.
// A status the plugin did not make (no ErrorInfo) comes from gRPC: the
// connection broke or the plugin is gone, which is CodeUnavailable and
// worth a retry on a restarted process.
func fromStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &Error{Code: CodeDeadline, Message: "plugin call exceeded its deadline"}
		}
		return &Error{Code: CodeCanceled, Message: "plugin call canceled"}
	}
	st, ok := status.FromError(err)
	if !ok {
		return &Error{Code: CodeUnavailable, Message: "plugin connection failed: " + err.Error()}
	}
	e := &Error{Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.Domain == errorDomain {
				e.Code = d.Reason
				if e.Code == CodeUnavailable {
					// Only the host decides a plugin is down; a plugin
					// that answers is at most reporting a transient failure.
					e.Code = CodeTransient
				}
			}
		case *errdetails.RetryInfo:
			e.RetryAfter = d.GetRetryDelay().AsDuration()
		case *errdetails.BadRequest:
			if len(d.FieldViolations) > 0 {
				e.Field = d.FieldViolations[0].Field
			}
		}
	}
	if e.Code != "" {
		return e
	}
	switch st.Code() {
	case codes.Unimplemented:
		e.Code = CodeUnimplemented
	case codes.OutOfRange:
		e.Code = CodeInvalidInput
	case codes.DeadlineExceeded:
		e.Code = CodeDeadline
	case codes.InvalidArgument:
		e.Code = CodeInvalidConfig
	case codes.NotFound:
		e.Code = CodeNotFound
	case codes.FailedPrecondition:
		e.Code = CodePermanent
	default: // Unavailable, Canceled, Internal, Unknown from the transport
		e.Code = CodeUnavailable
		e.Message = "plugin unavailable: " + st.Message()
	}
	return e
}
