package winrm

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Namespaces and URIs of MS-WSMV / WS-Management as Windows and its clients use them.
const (
	nsSOAP       = "http://www.w3.org/2003/05/soap-envelope"
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsTransfer   = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	nsWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsWSManMSFT  = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	nsShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsFault      = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"

	ResourceURIShell = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
	anonymous        = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

	actionCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actionCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actionReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actionSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	actionSignal  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	actionFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
	actionAddrFlt = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
	stateDone     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
	stateRunning  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"
	signalTerm    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"
	signalCtrlC   = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c"
	signalCtrlBrk = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_break"
)

// request is a parsed WS-Management SOAP envelope: the parts of MS-WSMV the shell
// operations use.
type request struct {
	Action           string
	MessageID        string
	To               string
	ResourceURI      string
	OperationTimeout time.Duration // 0 when absent
	MaxEnvelopeSize  int           // 0 when absent
	Selectors        map[string]string
	Options          map[string]string

	// Body, by action.
	Shell       *shellBody
	CommandLine *commandLineBody
	Receive     *receiveBody
	Send        *sendBody
	Signal      *signalBody
}

type xmlEnvelope struct {
	XMLName xml.Name  `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  xmlHeader `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body    xmlBody   `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type xmlHeader struct {
	To               string        `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing To"`
	Action           string        `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
	MessageID        string        `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
	ResourceURI      string        `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
	OperationTimeout string        `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
	MaxEnvelopeSize  string        `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
	SelectorSet      *xmlNamedSet  `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
	OptionSet        *xmlOptionSet `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet"`
}

type xmlNamedSet struct {
	Selectors []xmlNamed `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
}

type xmlOptionSet struct {
	Options []xmlNamed `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Option"`
}

type xmlNamed struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

type xmlBody struct {
	Shell       *shellBody       `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
	CommandLine *commandLineBody `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
	Receive     *receiveBody     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
	Send        *sendBody        `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
	Signal      *signalBody      `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
}

type shellBody struct {
	InputStreams  string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell InputStreams"`
	OutputStreams string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell OutputStreams"`
}

type commandLineBody struct {
	Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
	Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
}

type receiveBody struct {
	DesiredStream struct {
		CommandID string `xml:"CommandId,attr"`
		Streams   string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
}

type sendBody struct {
	Streams []struct {
		Name      string `xml:"Name,attr"`
		CommandID string `xml:"CommandId,attr"`
		End       string `xml:"End,attr"`
		Data      string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
}

type signalBody struct {
	CommandID string `xml:"CommandId,attr"`
	Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
}

// parseRequest decodes a SOAP envelope. encoding/xml processes no DTDs or external entities,
// so hostile XML cannot expand or reach files.
func parseRequest(b []byte) (*request, error) {
	var env xmlEnvelope
	dec := xml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("parse SOAP envelope: %w", err)
	}
	h := env.Header
	r := &request{
		Action:      strings.TrimSpace(h.Action),
		MessageID:   strings.TrimSpace(h.MessageID),
		To:          strings.TrimSpace(h.To),
		ResourceURI: strings.TrimSpace(h.ResourceURI),
		Selectors:   map[string]string{},
		Options:     map[string]string{},
		Shell:       env.Body.Shell,
		CommandLine: env.Body.CommandLine,
		Receive:     env.Body.Receive,
		Send:        env.Body.Send,
		Signal:      env.Body.Signal,
	}
	if r.Action == "" {
		return nil, fmt.Errorf("SOAP header has no wsa:Action")
	}
	if h.OperationTimeout != "" {
		d, err := parseDuration(strings.TrimSpace(h.OperationTimeout))
		if err != nil {
			return nil, fmt.Errorf("w:OperationTimeout: %w", err)
		}
		r.OperationTimeout = d
	}
	if h.MaxEnvelopeSize != "" {
		n, err := strconv.Atoi(strings.TrimSpace(h.MaxEnvelopeSize))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("w:MaxEnvelopeSize %q is not a positive number", h.MaxEnvelopeSize)
		}
		r.MaxEnvelopeSize = n
	}
	if h.SelectorSet != nil {
		for _, s := range h.SelectorSet.Selectors {
			r.Selectors[s.Name] = strings.TrimSpace(s.Value)
		}
	}
	if h.OptionSet != nil {
		for _, o := range h.OptionSet.Options {
			r.Options[o.Name] = strings.TrimSpace(o.Value)
		}
	}
	return r, nil
}

var durationRE = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseDuration reads the xs:duration forms WS-Management clients send (PT60S, PT20.000S,
// PT1M30S, P1DT2H).
func parseDuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		return 0, fmt.Errorf("%q is not an xs:duration", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, err := strconv.ParseInt(m[i+1], 10, 32)
			if err != nil {
				return 0, fmt.Errorf("%q: %w", s, err)
			}
			d += time.Duration(n) * unit
		}
	}
	if m[4] != "" {
		f, err := strconv.ParseFloat(m[4], 64)
		if err != nil || f > 1e7 {
			return 0, fmt.Errorf("%q: bad seconds", s)
		}
		d += time.Duration(f * float64(time.Second))
	}
	return d, nil
}

// xmlText escapes s for XML character data and attribute values.
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const envelopeOpen = `<s:Envelope xml:lang="en-US" xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddressing +
	`" xmlns:x="` + nsTransfer + `" xmlns:w="` + nsWSMan + `" xmlns:p="` + nsWSManMSFT + `" xmlns:rsp="` + nsShell + `">`

// response renders a reply envelope for action with the given body XML.
func response(action, relatesTo, body string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(envelopeOpen)
	b.WriteString(`<s:Header><a:Action>` + xmlText(action) + `</a:Action>`)
	b.WriteString(`<a:MessageID>uuid:` + newUUID() + `</a:MessageID>`)
	b.WriteString(`<a:To>` + anonymous + `</a:To>`)
	if relatesTo != "" {
		b.WriteString(`<a:RelatesTo>` + xmlText(relatesTo) + `</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>`)
	b.WriteString(body)
	b.WriteString(`</s:Body></s:Envelope>`)
	return []byte(b.String())
}

func createResponse(req *request, endpoint, shellID, owner string) []byte {
	body := `<x:ResourceCreated><a:Address>` + xmlText(endpoint) + `</a:Address><a:ReferenceParameters>` +
		`<w:ResourceURI>` + ResourceURIShell + `</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">` + shellID +
		`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
		`<rsp:Shell><rsp:ShellId>` + shellID + `</rsp:ShellId><rsp:ResourceUri>` + ResourceURIShell + `</rsp:ResourceUri>` +
		`<rsp:Owner>` + xmlText(owner) + `</rsp:Owner><rsp:InputStreams>stdin</rsp:InputStreams>` +
		`<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`
	return response(actionCreate+"Response", req.MessageID, body)
}

func commandResponse(req *request, commandID string) []byte {
	return response(actionCommand+"Response", req.MessageID,
		`<rsp:CommandResponse><rsp:CommandId>`+commandID+`</rsp:CommandId></rsp:CommandResponse>`)
}

// receiveResponse renders output chunks; exitCode is used when done.
func receiveResponse(req *request, commandID string, stdout, stderr []byte, done bool, exitCode int) []byte {
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	stream := func(name string, data []byte) {
		const chunk = 8192 // Windows sends output in several Stream elements
		for len(data) > 0 {
			n := min(chunk, len(data))
			b.WriteString(`<rsp:Stream Name="` + name + `" CommandId="` + commandID + `">` +
				base64.StdEncoding.EncodeToString(data[:n]) + `</rsp:Stream>`)
			data = data[n:]
		}
		if done {
			b.WriteString(`<rsp:Stream Name="` + name + `" CommandId="` + commandID + `" End="true"></rsp:Stream>`)
		}
	}
	stream("stdout", stdout)
	stream("stderr", stderr)
	if done {
		b.WriteString(`<rsp:CommandState CommandId="` + commandID + `" State="` + stateDone + `"><rsp:ExitCode>` +
			strconv.Itoa(exitCode) + `</rsp:ExitCode></rsp:CommandState>`)
	} else {
		b.WriteString(`<rsp:CommandState CommandId="` + commandID + `" State="` + stateRunning + `"></rsp:CommandState>`)
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	return response(actionReceive+"Response", req.MessageID, b.String())
}

// wsmanFault is a SOAP fault as Windows WinRM sends it (HTTP 500, MS-WSMV 2.2.4.x WSManFault detail).
type wsmanFault struct {
	Code    string // s:Sender or s:Receiver
	Subcode string // e.g. w:TimedOut, w:InvalidSelectors, a:ActionNotSupported
	Reason  string
	WSMan   uint32 // WSManFault Code, e.g. 2150858793 for a Receive operation timeout
	Action  string // fault action URI; default the WS-Management fault action
}

func (f wsmanFault) render(relatesTo string) []byte {
	action := f.Action
	if action == "" {
		action = actionFault
	}
	body := `<s:Fault><s:Code><s:Value>` + f.Code + `</s:Value><s:Subcode><s:Value>` + f.Subcode +
		`</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">` + xmlText(f.Reason) +
		`</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="` + nsFault + `" Code="` + strconv.FormatUint(uint64(f.WSMan), 10) +
		`" Machine="fix8524-lab"><f:Message>` + xmlText(f.Reason) + `</f:Message></f:WSManFault></s:Detail></s:Fault>`
	return response(action, relatesTo, body)
}

var (
	faultTimedOut = wsmanFault{Code: "s:Receiver", Subcode: "w:TimedOut", WSMan: 2150858793,
		Reason: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout."}
	faultShellNotFound = wsmanFault{Code: "s:Sender", Subcode: "w:InvalidSelectors", WSMan: 2150858843,
		Reason: "The request for the Windows Remote Shell with ShellId failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation."}
	faultBadCommandID = wsmanFault{Code: "s:Sender", Subcode: "w:InvalidParameter", WSMan: 2150858854,
		Reason: "The parameter is incorrect: the CommandId does not name a command of this shell."}
	faultActionNotSupported = wsmanFault{Code: "s:Sender", Subcode: "a:ActionNotSupported", WSMan: 2150858768, Action: actionAddrFlt,
		Reason: "The action is not supported by the service."}
	faultBadResource = wsmanFault{Code: "s:Sender", Subcode: "w:DestinationUnreachable", WSMan: 2150858770,
		Reason: "The WS-Management service cannot process the request. The resource URI is not supported."}
	faultSchema = wsmanFault{Code: "s:Sender", Subcode: "w:SchemaValidationError", WSMan: 2150858817,
		Reason: "The SOAP XML in the message does not match the corresponding XML schema definition."}
	faultQuota = wsmanFault{Code: "s:Receiver", Subcode: "w:QuotaLimit", WSMan: 2150859174,
		Reason: "The WS-Management service cannot process the request. This user is allowed a maximum number of 5 concurrent shells, which has been exceeded."}
)
