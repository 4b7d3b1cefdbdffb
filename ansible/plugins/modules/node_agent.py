#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: node_agent
short_description: Install and configure the FlowTraq upgrade agent on a node
description:
  - Installs the node agent (C(ftupgrade-agent)) from its Debian package, puts the
    cluster's token in place, configures the agent (C(ftupgrade-agent init)) and keeps its
    systemd service running.
  - Returns the agent's certificate fingerprint, which M(flowtraq.upgrade.cluster_upgrade)
    and the wizard pin.
  - Idempotent. The package is installed only when its version differs from the one
    installed. The configuration is rewritten only when a setting or the token differs.
    The token is compared with the salted hash the agent keeps. The certificate is never
    replaced, because the wizard has pinned it.
  - Without systemd as PID 1 (a container), the service is left alone and the result
    says so.
version_added: "0.1.0"
author:
  - FlowTraq Upgrade Wizard developers (!UNKNOWN)
options:
  deb:
    description:
      - The agent's Debian package (C(ftupgrade-agent_*.deb)) on the node.
      - Without it the agent must be installed already (I(agent)).
    type: path
  token:
    description:
      - The cluster's agent token (at least 16 characters), for example from Ansible Vault.
      - It is written to I(token_path) (mode 0600); the agent keeps only its salted hash.
    type: str
    required: true
  config:
    description:
      - The agent's configuration file.
    type: path
    default: /etc/ftupgrade-agent/agent.conf
  token_path:
    description:
      - Where the token is kept on the node. Default is C(token) beside I(config).
    type: path
  backend:
    description:
      - How the agent drives the FlowTraq service. Use C(sandbox) only for the sandbox FlowTraq.
    type: str
    choices: [systemd, sandbox]
    default: systemd
  listen:
    description:
      - The address the agent listens on.
    type: str
    default: 0.0.0.0
  port:
    description:
      - The agent's TCP port.
    type: int
    default: 9650
  install_dir:
    description:
      - The FlowTraq installation folder.
    type: path
    default: /opt/flowtraq
  service_name:
    description:
      - The FlowTraq service the agent stops and starts.
    type: str
    default: flowtraq
  installer_command:
    description:
      - How the vendor installer is run (see the agent's API.md). Default is the agent's own.
    type: str
  staging_dir:
    description:
      - Where the agent stages packages.
    type: path
    default: /var/lib/ftupgrade-agent/staging
  agent:
    description:
      - The agent program.
    type: path
    default: /usr/bin/ftupgrade-agent
  state:
    description:
      - The agent service's state. C(started) also restarts it after a change.
      - C(unmanaged) leaves the service alone.
    type: str
    choices: [started, stopped, unmanaged]
    default: started
  unit:
    description:
      - The agent's systemd unit.
    type: str
    default: ftupgrade-agent.service
notes:
  - Needs root on the node (C(become=true)) for the package and C(/etc/ftupgrade-agent).
  - Supports check mode.
seealso:
  - module: flowtraq.upgrade.cluster_upgrade
'''

EXAMPLES = r'''
- name: Copy the agent package to the node
  ansible.builtin.copy:
    src: build-package/ftupgrade-agent_0.1.0-1_amd64.deb
    dest: /var/cache/ftupgrade-agent.deb
    mode: "0644"

- name: Install and configure the agent, token from Vault
  flowtraq.upgrade.node_agent:
    deb: /var/cache/ftupgrade-agent.deb
    token: "{{ vault_cluster_token }}"
  become: true
  register: agent

- name: Show what the wizard must pin
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}:9650 {{ agent.fingerprint }}"
'''

RETURN = r'''
fingerprint:
  description: The agent certificate's SHA-256 fingerprint (lower-case hex of the DER certificate).
  returned: when the agent has a certificate (not before the first real run)
  type: str
  sample: 798f60308260f8e769425cece99057b7b270fbbc0af39251631cec6afdffde26
address:
  description: The agent's address as the wizard and the CLI want it (C(HOST:PORT)); HOST is the listen address.
  returned: always
  type: str
  sample: 0.0.0.0:9650
package_installed:
  description: True when the package was (or in check mode would be) installed.
  returned: always
  type: bool
configured:
  description: True when the configuration was (or would be) written.
  returned: always
  type: bool
token_changed:
  description: True when the token was (or would be) replaced.
  returned: always
  type: bool
differences:
  description: The settings that differed from the wanted ones.
  returned: always
  type: list
  elements: str
  sample: [port, token]
service:
  description: What was done to the service, or why it was left alone.
  returned: always
  type: str
  sample: restarted
'''

import base64
import hashlib
import hmac
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native


def read_qsettings_ini(path):
    """The sections and keys of a QSettings INI file (values unquoted as QSettings writes them)."""
    sections = {}
    section = None
    with open(path, 'rb') as handle:
        for raw in handle.read().decode('utf-8', 'replace').splitlines():
            line = raw.strip()
            if not line or line.startswith(';') or line.startswith('#'):
                continue
            if line.startswith('[') and line.endswith(']'):
                section = sections.setdefault(line[1:-1], {})
                continue
            if '=' not in line or section is None:
                continue
            key, value = line.split('=', 1)
            section[key.strip()] = unquote_qsettings(value.strip())
    return sections


def unquote_qsettings(value):
    # QSettings quotes a string that has a comma, a semicolon or surrounding spaces, and
    # escapes backslashes and quotes inside the quotes.
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
        return re.sub(r'\\(.)', lambda match: {'n': '\n', 't': '\t'}.get(match.group(1), match.group(1)), value)
    return value


def token_matches(auth, token):
    """The agent keeps salt (hex) and SHA-256(salt bytes + token) (hex): app/agent/tokenauth.h."""
    salt = auth.get('token_salt', '')
    stored = auth.get('token_sha256', '')
    if not salt or not stored:
        return False
    try:
        salt_bytes = bytes.fromhex(salt)
    except ValueError:
        return False
    candidate = hashlib.sha256(salt_bytes + to_bytes(token)).hexdigest()
    return hmac.compare_digest(candidate, stored.lower())


def certificate_fingerprint(path):
    """SHA-256 of the DER certificate, as the agent prints it; None when there is none."""
    if not os.path.isfile(path):
        return None
    with open(path, 'rb') as handle:
        text = to_native(handle.read())
    match = re.search(r'-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----', text, re.S)
    if not match:
        return None
    der = base64.b64decode(''.join(match.group(1).split()))
    return hashlib.sha256(der).hexdigest()


def wanted_settings(params):
    wanted = {
        'backend': params['backend'],
        'listen': params['listen'],
        'port': str(params['port']),
        'install_dir': params['install_dir'],
        'service_name': params['service_name'],
        'staging_dir': params['staging_dir'],
    }
    if params['installer_command'] is not None:
        wanted['installer_command'] = params['installer_command']
    return wanted


def configuration_differences(params, config_path, certificate_path):
    """The names of what differs from the wanted configuration (empty: nothing to do)."""
    if not os.path.isfile(config_path):
        return ['configuration']
    try:
        sections = read_qsettings_ini(config_path)
    except (IOError, OSError):
        return ['configuration']
    agent = sections.get('agent', {})
    differences = [key for key, value in sorted(wanted_settings(params).items()) if agent.get(key) != value]
    if not token_matches(sections.get('auth', {}), params['token']):
        differences.append('token')
    if not os.path.isfile(certificate_path):
        differences.append('certificate')
    return differences


def deb_fields(module, deb):
    rc, out, err = module.run_command(['dpkg-deb', '--field', deb, 'Package', 'Version'])
    if rc != 0:
        module.fail_json(msg='%s is not a Debian package: %s' % (deb, err.strip()))
    fields = dict(line.split(': ', 1) for line in out.splitlines() if ': ' in line)
    return fields.get('Package'), fields.get('Version')


def installed_version(module, package):
    rc, out, dummy = module.run_command(['dpkg-query', '--show', '--showformat', '${Status}\t${Version}', package])
    if rc != 0:
        return None
    status, version = (out.split('\t', 1) + [''])[:2]
    return version.strip() if status.strip() == 'install ok installed' else None


def write_private_file(path, data):
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    temporary = path + '.tmp'
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'wb') as handle:
        handle.write(data)
    os.chmod(temporary, 0o600)
    os.rename(temporary, path)


def systemd_running():
    # The test the Debian maintainer scripts use: systemd is PID 1.
    return os.path.isdir('/run/systemd/system')


def manage_service(module, state, unit, changed_anything):
    """What was done to the service (a word), or why it was left alone."""
    if state == 'unmanaged':
        return 'unmanaged'
    if not systemd_running():
        return 'left alone: systemd is not running on this node'
    systemctl = module.get_bin_path('systemctl', required=True)
    active = module.run_command([systemctl, 'is-active', '--quiet', unit])[0] == 0
    if state == 'stopped':
        action = 'stop' if active else None
    elif not active:
        action = 'start'
    else:
        action = 'restart' if changed_anything else None
    if action is None:
        return 'unchanged'
    if not module.check_mode:
        rc, dummy, err = module.run_command([systemctl, action, unit])
        if rc != 0:
            module.fail_json(msg='systemctl %s %s failed: %s' % (action, unit, err.strip()))
    return {'stop': 'stopped', 'start': 'started', 'restart': 'restarted'}[action]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            deb=dict(type='path'),
            token=dict(type='str', required=True, no_log=True),
            config=dict(type='path', default='/etc/ftupgrade-agent/agent.conf'),
            token_path=dict(type='path', no_log=False),
            backend=dict(type='str', choices=['systemd', 'sandbox'], default='systemd'),
            listen=dict(type='str', default='0.0.0.0'),
            port=dict(type='int', default=9650),
            install_dir=dict(type='path', default='/opt/flowtraq'),
            service_name=dict(type='str', default='flowtraq'),
            installer_command=dict(type='str'),
            staging_dir=dict(type='path', default='/var/lib/ftupgrade-agent/staging'),
            agent=dict(type='path', default='/usr/bin/ftupgrade-agent'),
            state=dict(type='str', choices=['started', 'stopped', 'unmanaged'], default='started'),
            unit=dict(type='str', default='ftupgrade-agent.service'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    token = params['token'].strip()
    params['token'] = token
    if len(token) < 16 or any(character.isspace() for character in token):
        module.fail_json(msg='The token must be at least 16 characters long, without spaces.')
    if not 0 <= params['port'] <= 65535:
        module.fail_json(msg='port must be from 0 to 65535.')
    if params['deb'] and not os.path.isfile(params['deb']):
        module.fail_json(msg='deb: %s is not a file.' % params['deb'])

    config_path = os.path.abspath(params['config'])
    config_dir = os.path.dirname(config_path)
    token_path = params['token_path'] or os.path.join(config_dir, 'token')
    certificate_path = os.path.join(config_dir, 'agent.crt')
    result = dict(changed=False, package_installed=False, configured=False, token_changed=False,
                  address='%s:%d' % (params['listen'], params['port']))

    # 1. The token file first: the package's postinst takes the token from it.
    token_bytes = to_bytes(token) + b'\n'
    current = None
    if os.path.isfile(token_path):
        with open(token_path, 'rb') as handle:
            current = handle.read()
    if current != token_bytes:
        result['token_changed'] = True
        if not module.check_mode:
            write_private_file(token_path, token_bytes)

    # 2. The package, when its version is not the one installed.
    if params['deb']:
        package, version = deb_fields(module, params['deb'])
        if installed_version(module, package) != version:
            result['package_installed'] = True
            if not module.check_mode:
                apt_get = module.get_bin_path('apt-get', required=True)
                rc, dummy, err = module.run_command(
                    [apt_get, 'install', '-y', '--allow-downgrades', params['deb']],
                    environ_update={'DEBIAN_FRONTEND': 'noninteractive'})
                if rc != 0:
                    module.fail_json(msg='Installing %s failed: %s' % (params['deb'], err.strip()), **result)

    # 3. The configuration, when a setting or the token differs.
    differences = configuration_differences(params, config_path, certificate_path)
    result['differences'] = differences
    if differences:
        result['configured'] = True
        if not module.check_mode:
            if not os.path.isfile(params['agent']):
                module.fail_json(msg='The agent program %s is not installed; give deb.' % params['agent'], **result)
            argv = [params['agent'], 'init', '--config', config_path,
                    '--backend', params['backend'], '--install', params['install_dir'],
                    '--listen', params['listen'], '--port', str(params['port']),
                    '--staging', params['staging_dir'], '--service-name', params['service_name']]
            if params['installer_command'] is not None:
                argv += ['--installer-command', params['installer_command']]
            # Only a new token is hashed again: an unchanged one keeps its salt and hash.
            if 'token' in differences or 'configuration' in differences:
                argv += ['--token-file', token_path]
            rc, dummy, err = module.run_command(argv, umask=0o077)
            if rc != 0:
                module.fail_json(msg='ftupgrade-agent init failed: %s' % err.strip(), **result)
            for path in (config_path, os.path.join(config_dir, 'agent.key')):
                if os.path.exists(path):
                    os.chmod(path, 0o600)
            if configuration_differences(params, config_path, certificate_path):
                module.fail_json(msg='ftupgrade-agent init did not write the wanted configuration to %s.'
                                 % config_path, **result)

    result['changed'] = result['package_installed'] or result['configured'] or result['token_changed']
    result['service'] = manage_service(module, params['state'], params['unit'], result['changed'])
    if result['service'] in ('started', 'stopped', 'restarted'):
        result['changed'] = True
    fingerprint = certificate_fingerprint(certificate_path)
    if fingerprint:
        result['fingerprint'] = fingerprint
    module.exit_json(**result)


if __name__ == '__main__':
    main()
