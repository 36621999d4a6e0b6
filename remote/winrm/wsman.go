package winrm

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Parsing of WS-Management replies. Requests are built with masterzen/winrm's builders; the
// Receive reply and faults are parsed here, strictly: masterzen's parser ignores base64 errors
// and a missing ExitCode, and can panic on malformed XML.

const (
	stateDone = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"

	// WSManCodeTimedOut is the WSManFault code of a Receive that waited OperationTimeout
	// without output: clients poll again.
	WSManCodeTimedOut = 2150858793
)

// Fault is a SOAP/WS-Management fault returned by the server.
type Fault struct {
	Code      string // s:Sender / s:Receiver
	Subcode   string // e.g. w:TimedOut, w:InvalidSelectors
	Reason    string
	WSManCode uint32 // WSManFault/@Code, 0 when absent
}

func (f *Fault) Error() string {
	s := "WS-Management fault"
	if f.Subcode != "" {
		s += " " + f.Subcode
	}
	if f.WSManCode != 0 {
		s += fmt.Sprintf(" (code %d)", f.WSManCode)
	}
	if f.Reason != "" {
		s += ": " + strings.TrimSpace(f.Reason)
	}
	return s
}

// TimedOut reports the fault a Receive returns when no output arrived within OperationTimeout.
func (f *Fault) TimedOut() bool {
	return f.WSManCode == WSManCodeTimedOut || strings.HasSuffix(f.Subcode, ":TimedOut") || f.Subcode == "TimedOut"
}

type xmlFaultEnvelope struct {
	Body struct {
		Fault *struct {
			Code struct {
				Value   string `xml:"http://www.w3.org/2003/05/soap-envelope Value"`
				Subcode struct {
					Value string `xml:"http://www.w3.org/2003/05/soap-envelope Value"`
				} `xml:"http://www.w3.org/2003/05/soap-envelope Subcode"`
			} `xml:"http://www.w3.org/2003/05/soap-envelope Code"`
			Reason struct {
				Text []string `xml:"http://www.w3.org/2003/05/soap-envelope Text"`
			} `xml:"http://www.w3.org/2003/05/soap-envelope Reason"`
			Detail struct {
				WSManFault *struct {
					Code    string `xml:"Code,attr"`
					Message string `xml:",innerxml"`
				} `xml:"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault WSManFault"`
			} `xml:"http://www.w3.org/2003/05/soap-envelope Detail"`
		} `xml:"http://www.w3.org/2003/05/soap-envelope Fault"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

// ParseFault extracts a SOAP fault from a reply body; ok is false when there is none.
func ParseFault(body []byte) (*Fault, bool) {
	var env xmlFaultEnvelope
	if err := xml.Unmarshal(body, &env); err != nil || env.Body.Fault == nil {
		return nil, false
	}
	f := env.Body.Fault
	out := &Fault{Code: strings.TrimSpace(f.Code.Value), Subcode: strings.TrimSpace(f.Code.Subcode.Value)}
	if len(f.Reason.Text) > 0 {
		out.Reason = strings.TrimSpace(f.Reason.Text[0])
	}
	if d := f.Detail.WSManFault; d != nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(d.Code), 10, 32); err == nil {
			out.WSManCode = uint32(n)
		}
		if out.Reason == "" {
			out.Reason = stripTags(d.Message)
		}
	}
	return out, true
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// ReceiveOutput is one parsed Receive reply.
type ReceiveOutput struct {
	Stdout, Stderr []byte
	Done           bool
	ExitCode       int
}

type xmlReceiveEnvelope struct {
	Body struct {
		ReceiveResponse *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
			CommandState *struct {
				CommandID string  `xml:"CommandId,attr"`
				State     string  `xml:"State,attr"`
				ExitCode  *string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell ExitCode"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandState"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell ReceiveResponse"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

// ParseReceive parses a Receive reply for commandID.
func ParseReceive(body []byte, commandID string) (*ReceiveOutput, error) {
	var env xmlReceiveEnvelope
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&env); err != nil {
		return nil, fmt.Errorf("parse Receive reply: %w", err)
	}
	rr := env.Body.ReceiveResponse
	if rr == nil {
		return nil, errors.New("parse Receive reply: no rsp:ReceiveResponse in the body")
	}
	out := &ReceiveOutput{}
	for _, s := range rr.Streams {
		if s.CommandID != "" && !strings.EqualFold(s.CommandID, commandID) {
			return nil, fmt.Errorf("parse Receive reply: stream for another command %q", s.CommandID)
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Data))
		if err != nil {
			return nil, fmt.Errorf("parse Receive reply: %s stream: %w", s.Name, err)
		}
		switch s.Name {
		case "stdout":
			out.Stdout = append(out.Stdout, data...)
		case "stderr":
			out.Stderr = append(out.Stderr, data...)
		default:
			return nil, fmt.Errorf("parse Receive reply: unknown stream %q", s.Name)
		}
	}
	if cs := rr.CommandState; cs != nil && cs.State == stateDone {
		out.Done = true
		if cs.ExitCode == nil {
			return nil, errors.New("parse Receive reply: command done without rsp:ExitCode")
		}
		n, err := strconv.ParseInt(strings.TrimSpace(*cs.ExitCode), 10, 64)
		if err != nil || n < -1<<31 || n > 1<<32-1 {
			return nil, fmt.Errorf("parse Receive reply: bad exit code %q", *cs.ExitCode)
		}
		if n > 1<<31-1 { // Windows exit codes are DWORDs; show NTSTATUS-style codes as negative, as cmd.exe does
			n -= 1 << 32
		}
		out.ExitCode = int(n)
	}
	return out, nil
}
