package plugin

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// A CA's Retry-After crosses the process boundary with the error, so the
// host can wait as long as the CA asked.
func TestErrorRetryAfterCrossesTheWire(t *testing.T) {
	in := &Error{Code: CodeTransient, Message: "rate limited: too many new orders", RetryAfter: 90 * time.Second}
	out := fromStatus(context.Background(), toStatus(in))
	if got := RetryAfter(out); got != 90*time.Second {
		t.Fatalf("RetryAfter after the wire = %v, want 90s (error %v)", got, out)
	}
	if ErrorCode(out) != CodeTransient || out.Error() != in.Error() {
		t.Fatalf("error after the wire = %v, want %v", out, in)
	}
	if got := RetryAfter(fromStatus(context.Background(), toStatus(Errorf(CodeTransient, "busy")))); got != 0 {
		t.Fatalf("RetryAfter of an error without one = %v, want 0", got)
	}
}

// Challenges, the order to resume and the presented tokens survive the
// conversion to protobuf and back.
func TestChallengeFieldsCrossTheWire(t *testing.T) {
	res := IssueResult{Status: StatusPending, OrderID: "https://ca.example/order/1", RetryAfter: 3 * time.Second,
		Challenges: []Challenge{{Type: ChallengeHTTP01, Identifier: "a.example", Token: "tok", KeyAuthorization: "tok.thumb", Solver: SolverAgent}}}
	if got := issueResultFromProto(issueResultToProto(res)); !reflect.DeepEqual(got, res) {
		t.Fatalf("result after the wire = %+v, want %+v", got, res)
	}
	req := IssueRequest{Config: Config{"a": "b"}, CommonName: "a.example", OrderID: "https://ca.example/order/1",
		PresentedChallenges: []string{"tok"}}
	pb, err := issueRequestToProto(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := issueRequestFromProto(pb)
	if err != nil {
		t.Fatal(err)
	}
	if got.OrderID != req.OrderID || !reflect.DeepEqual(got.PresentedChallenges, req.PresentedChallenges) {
		t.Fatalf("request after the wire = %+v, want %+v", got, req)
	}
}
