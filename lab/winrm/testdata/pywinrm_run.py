"""Run commands through pywinrm (Debian python3-winrm) and print the results as a JSON list.

Usage: pywinrm_run.py ENDPOINT TRANSPORT CA_FILE MODE COMMAND [MODE COMMAND ...]
  TRANSPORT: basic | ntlm   (pywinrm's 'ssl' is Basic over HTTPS)
  CA_FILE:   PEM file to verify the server certificate, or '-' for HTTP
  MODE:      cmd | ps
The user name and password come from the environment (PYWINRM_USER, PYWINRM_PASSWORD) so they
never appear in a process listing.
"""
import base64
import json
import os
import sys

import winrm

endpoint, transport, ca = sys.argv[1:4]
pairs = sys.argv[4:]
kwargs = dict(transport=transport, read_timeout_sec=30, operation_timeout_sec=20)
if ca != '-':
    kwargs['ca_trust_path'] = ca
    kwargs['server_cert_validation'] = 'validate'
if transport == 'ntlm':
    kwargs['message_encryption'] = 'auto'  # sealed over HTTP, plain over HTTPS
session = winrm.Session(endpoint, auth=(os.environ['PYWINRM_USER'], os.environ['PYWINRM_PASSWORD']), **kwargs)
results = []
for mode, command in zip(pairs[0::2], pairs[1::2]):
    if mode == 'ps':
        # Session.run_ps would do the same, but python3-winrm 0.3.0's run_ps then crashes on any
        # stderr (it calls str.startswith on bytes); encode the script the way run_ps does.
        encoded = base64.b64encode(command.encode('utf_16_le')).decode('ascii')
        r = session.run_cmd('powershell -encodedcommand {0}'.format(encoded))
    else:
        parts = command.split(' ')
        r = session.run_cmd(parts[0], parts[1:])
    encrypted = session.protocol.transport.encryption is not None
    results.append({
        'stdout': base64.b64encode(r.std_out).decode(),
        'stderr': base64.b64encode(r.std_err if isinstance(r.std_err, bytes) else r.std_err.encode()).decode(),
        'code': r.status_code,
        'encrypted': encrypted,
    })
print(json.dumps(results))
