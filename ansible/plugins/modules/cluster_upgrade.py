#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: cluster_upgrade
short_description: Upgrade one FlowTraq cluster with ftupgrade-cli
description:
  - Runs C(ftupgrade-cli) on the controller against one FlowTraq cluster, reached through
    the node agent on its portal.
  - The CLI discovers the cluster, runs the pre-checks, stages and verifies the packages on
    every node before any service stops, upgrades the workers one at a time, then the
    portal, the NBI and the Web UI, and verifies every node.
  - In check mode only the plan is made (C(ftupgrade-cli plan)); nothing on the cluster
    changes, and the plan is returned.
  - The token is handed to the CLI in its environment (C(FTUPGRADE_TOKEN)) or as a file
    (C(--token-file)), never on its command line, where other users could read it.
  - The task is C(changed) only when a node was upgraded; a cluster that is at the
    target already reports C(changed=false).
version_added: "0.1.0"
author:
  - FlowTraq Upgrade Wizard developers (!UNKNOWN)
options:
  name:
    description:
      - The cluster's name in the report files (C(NAME.html), C(NAME.json)).
      - Default is the portal's address with C(:) replaced by C(_).
    type: str
  portal:
    description:
      - The portal agent's address, C(HOST:PORT) (the agent's default port is 9650).
    type: str
    required: true
  fingerprint:
    description:
      - The portal agent's certificate SHA-256 fingerprint, as C(ftupgrade-agent init) or
        M(flowtraq.upgrade.node_agent) printed it (hex, with or without colons).
    type: str
    required: true
  node_fingerprints:
    description:
      - The other nodes' agent fingerprints, by agent address (C(HOST:PORT)).
      - A node whose certificate is neither here nor trusted in the wizard is reported as
        untrusted and nothing is sent to it.
    type: dict
    default: {}
  token:
    description:
      - The cluster's agent token, for example from Ansible Vault.
      - It reaches the CLI through its environment, never its command line.
      - Exactly one of I(token) and I(token_file) is required.
    type: str
  token_file:
    description:
      - A file on the controller holding the cluster's agent token.
    type: path
  server_package:
    description:
      - The new FlowTraq server package, on the controller.
      - Required unless I(resume) is set (a resumed run keeps its journal's packages).
    type: path
  nbi_package:
    description:
      - The new NBI package, on the controller.
    type: path
  webui_package:
    description:
      - The new Web UI package, on the controller.
    type: path
  max_workers_down:
    description:
      - Workers upgraded at the same time.
    type: int
    default: 1
  start_time:
    description:
      - When the upgrade is to start, ISO 8601 (C(2026-12-06T03:00:00Z)).
      - The plan's estimates and flows lost are computed for it; a real run waits until
        then before it starts. A time in the past starts at once.
    type: str
  on_failure:
    description:
      - What a failed step does. C(halt) stops the run and leaves the later nodes
        untouched; C(skip) leaves the node on its old version and goes on; C(defer)
        retries it at the end.
    type: str
    choices: [halt, skip, defer]
    default: halt
  stop_after:
    description:
      - Halt once this many nodes have failed (default 1 with C(halt), no limit otherwise).
    type: int
  installer_timeout:
    description:
      - Seconds an installer may run before its agent stops it.
    type: int
  slow_after:
    description:
      - Seconds beyond its estimate after which a step is reported as slow.
    type: int
  flow_timeout:
    description:
      - Seconds to wait for flows to arrive again on a node that receives them.
    type: int
  delivery:
    description:
      - How the packages reach the nodes. C(portal) uploads each package once to the
        portal's agent and every node fetches it from there, so the controller needs no
        inbound connection; C(workstation) serves them from the controller
        (see I(serve_address)); C(url) has the nodes fetch them from I(package_url).
    type: str
    choices: [portal, workstation, url]
    default: portal
  package_url:
    description:
      - With I(delivery=url), the folder URL (http or https) the packages are in.
    type: str
  serve_address:
    description:
      - With I(delivery=workstation), the controller's address facing the nodes, where
        the packages are served; by default the address that reaches the portal.
    type: str
  serve_certificate:
    description:
      - Serve the packages over HTTPS with this certificate (PEM); needs I(serve_key).
    type: path
  serve_key:
    description:
      - The private key of I(serve_certificate) (PEM).
    type: path
  discovery_timeout:
    description:
      - Seconds to wait for each node while making the plan (check mode).
    type: int
    default: 5
  journal:
    description:
      - The run journal. Default is one per cluster in the CLI's data folder.
      - The reports are made from it.
    type: path
  resume:
    description:
      - Continue the unfinished run in I(journal) (re-probe every node, reconcile, and go
        on without upgrading anything twice) instead of starting a new one.
    type: bool
    default: false
  report_dir:
    description:
      - Write the run's report to this folder as C(NAME.html) and C(NAME.json)
        (C(ftupgrade-cli report)), also when the run failed.
      - Not in check mode.
    type: path
  fail_on_reboot_needed:
    description:
      - Fail the task when a node needs a reboot after its upgrade.
    type: bool
    default: false
  cli:
    description:
      - The C(ftupgrade-cli) program.
    type: path
    default: ftupgrade-cli
notes:
  - "Runs on the controller; use C(connection: local) with one inventory host per cluster."
  - Supports check mode.
seealso:
  - module: flowtraq.upgrade.node_agent
'''

EXAMPLES = r'''
- name: Upgrade the cluster, token from Vault
  flowtraq.upgrade.cluster_upgrade:
    name: site-a
    portal: portal.site-a.example.com:9650
    fingerprint: 4904f1c2...b0f7
    node_fingerprints:
      worker1.site-a.example.com:9650: 77a0...19c2
    token: "{{ vault_site_a_token }}"
    server_package: /srv/flowtraq/flowtraq-server-6.3.0-1500.ftpkg
    webui_package: /srv/flowtraq/flowtraq-webui-6.3.0-1500.ftpkg
    start_time: "2026-12-06T03:00:00Z"
    report_dir: /srv/flowtraq/reports
  register: upgrade

- name: Show the plan only
  flowtraq.upgrade.cluster_upgrade:
    portal: portal.site-a.example.com:9650
    fingerprint: 4904f1c2...b0f7
    token_file: /etc/flowtraq/site-a.token
    server_package: /srv/flowtraq/flowtraq-server-6.3.0-1500.ftpkg
  check_mode: true
  register: plan
'''

RETURN = r'''
rc:
  description: The exit code of the CLI's run (or plan in check mode).
  returned: always
  type: int
  sample: 0
changed:
  description: True when a node was upgraded (in check mode, when the plan has work to do).
  returned: always
  type: bool
reboot_needed:
  description: True when a node needs a reboot (the CLI's exit code 3).
  returned: always
  type: bool
  sample: false
outcome:
  description:
    - C(upgraded), C(nothing_to_do), C(reboot_needed), C(halted) (a step failed),
      C(blocked) (pre-checks or an unreachable portal), C(bad_input), or C(planned) in check mode.
  returned: always
  type: str
  sample: upgraded
plan:
  description: The rolling plan (waves of steps, estimates, flows lost), as C(ftupgrade-cli plan) prints it.
  returned: when a plan was made or run
  type: dict
prechecks:
  description: The pre-check findings.
  returned: in check mode
  type: dict
nodes:
  description: The nodes as discovery found them.
  returned: in check mode
  type: list
  elements: dict
run:
  description: The run report (steps with their states, versions and timings) without the verification.
  returned: when a run happened
  type: dict
verification:
  description: The verification matrix, one cell per node and component.
  returned: when the cluster was verified
  type: dict
  contains:
    cells:
      description: One per node and component.
      type: list
      elements: dict
      sample:
        - node: w1
          role: worker
          component: server
          version_before: 6.2.1-1200
          version_now: 6.3.0-1500
          target: 6.3.0-1500
          service_running: true
          verdict: upgraded
    all_at_target:
      description: Every cell is at its target.
      type: bool
    any_failed:
      description: Some cell failed or was unreachable.
      type: bool
    reboot_needed:
      description: Some node needs a reboot.
      type: bool
upgraded:
  description: The cells of the verification matrix that were upgraded (C(node/component)).
  returned: always
  type: list
  elements: str
  sample: [w1/server, portal/server]
journal:
  description: The run journal's path.
  returned: when known
  type: str
reports:
  description: The report files written.
  returned: when report_dir is set
  type: list
  elements: str
messages:
  description: The CLI's sentences (stderr), one per line.
  returned: always
  type: list
  elements: str
'''

import datetime
import json
import os
import re
import time

from ansible.module_utils.basic import AnsibleModule

# The CLI's exit codes (README, "Command line").
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_REBOOT_NEEDED = 3


def parse_time(text):
    """An ISO 8601 time as an aware datetime (UTC when no offset is given), or None."""
    value = text.strip()
    if value.endswith('Z') or value.endswith('z'):
        value = value[:-1] + '+00:00'
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def parse_json(text):
    """The CLI prints one JSON document on stdout; an empty dict when there is none."""
    text = text.strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        start = text.find('{')
        if start < 0:
            return {}
        try:
            value = json.loads(text[start:])
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def upgraded_cells(verification):
    cells = (verification or {}).get('cells') or []
    return ['%s/%s' % (cell.get('node'), cell.get('component'))
            for cell in cells if cell.get('verdict') == 'upgraded']


class Cli(object):
    """Runs ftupgrade-cli with the cluster's connection and the token in its environment."""

    def __init__(self, module):
        self.module = module
        params = module.params
        # A clear failure when the CLI is not installed, before anything is done.
        self.program = module.get_bin_path(params['cli'], required=True) \
            if os.path.basename(params['cli']) == params['cli'] else params['cli']
        self.connection = ['--portal', params['portal'], '--fingerprint', params['fingerprint']]
        for address, fingerprint in sorted((params['node_fingerprints'] or {}).items()):
            self.connection += ['--node-fingerprint', '%s=%s' % (address, fingerprint)]
        self.environment = {}
        if params['token_file']:
            self.connection += ['--token-file', params['token_file']]
        else:
            self.environment['FTUPGRADE_TOKEN'] = params['token']
        self.messages = []

    def run(self, command, arguments):
        argv = [self.program, command] + self.connection + arguments
        rc, out, err = self.module.run_command(argv, environ_update=self.environment)
        # The CLI's sentences; Qt's own start-up warnings are not about the cluster.
        self.messages += [line for line in err.splitlines()
                          if line.strip() and not line.startswith('QStandardPaths:')]
        return rc, parse_json(out)


def package_arguments(params):
    arguments = []
    for option in ('server_package', 'nbi_package', 'webui_package'):
        if params[option]:
            arguments += ['--' + option.replace('_', '-'), params[option]]
    return arguments


def run_arguments(params):
    arguments = []
    if params['journal']:
        arguments += ['--journal', params['journal']]
    if params['resume']:
        return ['--resume'] + arguments
    arguments += package_arguments(params)
    arguments += ['--on-failure', params['on_failure'],
                  '--max-workers-down', str(params['max_workers_down']),
                  '--delivery', params['delivery']]
    if params['package_url']:
        arguments += ['--package-url', params['package_url']]
    if params['serve_address']:
        arguments += ['--serve-address', params['serve_address']]
    numbers = (('stop_after', '--stop-after'), ('installer_timeout', '--installer-timeout'),
               ('slow_after', '--slow-after'), ('flow_timeout', '--flow-timeout'))
    for option, flag in numbers:
        if params[option] is not None:
            arguments += [flag, str(params[option])]
    if params['serve_certificate']:
        arguments += ['--serve-certificate', params['serve_certificate'],
                      '--serve-key', params['serve_key']]
    return arguments


def check_input(module):
    """Bad input: one clear sentence, and nothing done."""
    params = module.params
    for option in ('server_package', 'nbi_package', 'webui_package', 'token_file',
                   'serve_certificate', 'serve_key'):
        path = params[option]
        if path and not os.path.isfile(path):
            module.fail_json(msg='%s: %s is not a file.' % (option, path), outcome='bad_input')
    if os.path.basename(params['cli']) != params['cli'] and not os.access(params['cli'], os.X_OK):
        module.fail_json(msg='cli: %s is not a program that can be run.' % params['cli'], outcome='bad_input')
    if params['max_workers_down'] < 1:
        module.fail_json(msg='max_workers_down must be at least 1.', outcome='bad_input')
    if params['start_time'] and parse_time(params['start_time']) is None:
        module.fail_json(msg='start_time takes an ISO 8601 time such as 2026-12-06T03:00:00Z.',
                         outcome='bad_input')
    if not params['resume'] and not params['server_package']:
        module.fail_json(msg='Name at least the new server package (server_package).', outcome='bad_input')
    if params['resume'] and not params['journal']:
        module.fail_json(msg='resume needs the journal of the run to continue.', outcome='bad_input')
    if params['token'] is not None and not params['token'].strip():
        module.fail_json(msg='token is empty.', outcome='bad_input')
    if bool(params['serve_certificate']) != bool(params['serve_key']):
        module.fail_json(msg='HTTPS needs both serve_certificate and serve_key.', outcome='bad_input')
    for address in (params['node_fingerprints'] or {}):
        if not re.match(r'^[^\s=]+:\d+$', address):
            module.fail_json(msg='node_fingerprints takes HOST:PORT keys; "%s" is not one.' % address,
                             outcome='bad_input')


def plan_only(module, cli):
    params = module.params
    arguments = package_arguments(params)
    arguments += ['--max-workers-down', str(params['max_workers_down']),
                  '--timeout', str(params['discovery_timeout'])]
    if params['start_time']:
        arguments += ['--start', params['start_time']]
    rc, output = cli.run('plan', arguments)
    plan = output.get('plan') or {}
    result = dict(rc=rc, plan=plan, prechecks=output.get('prechecks', {}), nodes=output.get('nodes', []),
                  reboot_needed=False, upgraded=[], messages=cli.messages)
    if rc == EXIT_OK:
        result['outcome'] = 'planned'
        # As Ansible's check mode means it: would a real run change something?
        module.exit_json(changed=bool(plan.get('waves')), **result)
    result['outcome'] = 'bad_input' if rc == EXIT_BAD_INPUT else 'blocked'
    module.fail_json(msg=' '.join(cli.messages) or 'ftupgrade-cli plan exited with %d.' % rc,
                     changed=False, **result)


def wait_for_start(start_time):
    moment = parse_time(start_time)
    while True:
        remaining = (moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        if remaining <= 0:
            return
        time.sleep(min(remaining, 60))


def write_reports(module, cli, journal):
    params = module.params
    name = params['name'] or re.sub(r'[^A-Za-z0-9._-]', '_', params['portal'])
    folder = params['report_dir']
    if not journal or not os.path.isfile(journal):
        cli.messages.append('No run journal for this cluster yet, so no report was written.')
        return [], True
    if not os.path.isdir(folder):
        os.makedirs(folder)
    written = []
    ok = True
    for extension in ('html', 'json'):
        path = os.path.join(folder, '%s.%s' % (name, extension))
        rc, dummy = cli.run('report', ['--journal', journal, '--output', path])
        if rc == EXIT_OK:
            written.append(path)
        else:
            ok = False
    return written, ok


def upgrade(module, cli):
    params = module.params
    if params['start_time']:
        wait_for_start(params['start_time'])
    rc, output = cli.run('run', run_arguments(params))
    result = dict(rc=rc, reboot_needed=rc == EXIT_REBOOT_NEEDED, messages=cli.messages)
    journal = output.get('journal') or params['journal']
    verification = output.get('verification')

    if rc == EXIT_OK and 'steps' not in output and 'plan' in output:
        # "Every node is at the target already": nothing ran; verify to return the matrix.
        result['outcome'] = 'nothing_to_do'
        result['plan'] = output['plan']
        verify_rc, verified = cli.run('verify', package_arguments(params))
        verification = verified.get('verification')
        if verify_rc == EXIT_REBOOT_NEEDED:
            result['reboot_needed'] = True
    elif 'steps' in output:
        result['run'] = dict((key, value) for key, value in output.items() if key != 'verification')
        result['plan'] = output.get('plan', {})
        result['outcome'] = {EXIT_OK: 'upgraded', EXIT_REBOOT_NEEDED: 'reboot_needed'}.get(rc, 'halted')
    else:
        result['outcome'] = 'bad_input' if rc == EXIT_BAD_INPUT else 'blocked'
        if 'prechecks' in output:
            result['prechecks'] = output['prechecks']

    if verification is not None:
        result['verification'] = verification
    # Only a run's matrix tells what it upgraded: without a run, "upgraded" there just
    # means "at the target".
    result['upgraded'] = upgraded_cells(verification) if 'run' in result else []
    result['journal'] = journal
    changed = bool(result['upgraded'])

    if params['report_dir'] and result['outcome'] not in ('bad_input', 'blocked'):
        result['reports'], reports_ok = write_reports(module, cli, journal)
        if not reports_ok:
            module.fail_json(msg='The report could not be written: %s' % ' '.join(cli.messages[-2:]),
                             changed=changed, **result)

    if rc == EXIT_OK or (rc == EXIT_REBOOT_NEEDED and not params['fail_on_reboot_needed']):
        module.exit_json(changed=changed, **result)
    if rc == EXIT_REBOOT_NEEDED:
        message = 'The upgrade is done, but a node needs a reboot.'
    elif rc == EXIT_BAD_INPUT:
        message = 'ftupgrade-cli refused the input; nothing was done: %s' % ' '.join(cli.messages)
    elif result['outcome'] == 'halted':
        message = 'The upgrade halted: %s' % ((result.get('run') or {}).get('state_sentence') or ' '.join(cli.messages))
    else:
        message = 'Nothing was upgraded: %s' % ' '.join(cli.messages)
    module.fail_json(msg=message, changed=changed, **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str'),
            portal=dict(type='str', required=True),
            fingerprint=dict(type='str', required=True),
            node_fingerprints=dict(type='dict', default={}),
            token=dict(type='str', no_log=True),
            token_file=dict(type='path', no_log=False),
            server_package=dict(type='path'),
            nbi_package=dict(type='path'),
            webui_package=dict(type='path'),
            max_workers_down=dict(type='int', default=1),
            start_time=dict(type='str'),
            on_failure=dict(type='str', choices=['halt', 'skip', 'defer'], default='halt'),
            stop_after=dict(type='int'),
            installer_timeout=dict(type='int'),
            slow_after=dict(type='int'),
            flow_timeout=dict(type='int'),
            delivery=dict(type='str', choices=['portal', 'workstation', 'url'], default='portal'),
            package_url=dict(type='str'),
            serve_address=dict(type='str'),
            serve_certificate=dict(type='path'),
            serve_key=dict(type='path', no_log=False),
            discovery_timeout=dict(type='int', default=5),
            journal=dict(type='path'),
            resume=dict(type='bool', default=False),
            report_dir=dict(type='path'),
            fail_on_reboot_needed=dict(type='bool', default=False),
            cli=dict(type='path', default='ftupgrade-cli'),
        ),
        mutually_exclusive=[('token', 'token_file')],
        required_if=[('delivery', 'url', ('package_url',))],
        required_one_of=[('token', 'token_file')],
        supports_check_mode=True,
    )
    check_input(module)
    cli = Cli(module)
    if module.check_mode:
        plan_only(module, cli)
    upgrade(module, cli)


if __name__ == '__main__':
    main()
