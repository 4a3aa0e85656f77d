"""An `aws` CLI for scripts/edge-cognito.sh tests: moto plus what moto lacks.

moto 5.2.5 implements the Cognito user pool clients and the ELBv2 listener
rules the script uses, but not the 2025 client-secret operations
(AddUserPoolClientSecret, ListUserPoolClientSecrets, DeleteUserPoolClientSecret)
nor managed login branding. Those are emulated here, in a JSON state file,
with the limits Cognito documents (at most two secrets per client, the last
one cannot be deleted, one style per client); the first secret of a client is
the one moto generated. Every other call runs the real AWS CLI against moto
(AWS_ENDPOINT_URL). Every call's argv is appended to FAKE_AWS_LOG, so tests
can check the exact calls and that no secret is ever on a command line.
"""
import json
import os
import subprocess
import sys
import time
import uuid

import jmespath

REAL_AWS = os.environ['REAL_AWS']
STATE = os.environ['FAKE_AWS_STATE']
LOG = os.environ['FAKE_AWS_LOG']

EMULATED = {
    'add-user-pool-client-secret',
    'list-user-pool-client-secrets',
    'delete-user-pool-client-secret',
    'create-managed-login-branding',
    'describe-managed-login-branding-by-client',
    'delete-managed-login-branding',
}

argv = sys.argv[1:]
with open(LOG, 'a') as log:
    log.write(json.dumps(argv) + '\n')

if len(argv) < 2 or argv[0] != 'cognito-idp' or argv[1] not in EMULATED:
    os.execv(REAL_AWS, [REAL_AWS] + argv)


def option(name):
    flag = '--' + name
    return argv[argv.index(flag) + 1] if flag in argv else None


request = {}
if option('cli-input-json'):
    with open(option('cli-input-json').removeprefix('file://')) as f:
        request = json.load(f)


def param(key, flag):
    value = request.get(key) or option(flag)
    if not value:
        fail('ValidationException', f'{key} is required')
    return value


def fail(code, message):
    sys.stderr.write(f'\nAn error occurred ({code}) when calling the {argv[1]} operation: {message}\n')
    sys.exit(254)


def real_client(pool, client):
    """The client as moto has it, or None."""
    run = subprocess.run([REAL_AWS, 'cognito-idp', 'describe-user-pool-client', '--user-pool-id', pool, '--client-id', client, '--output', 'json'], capture_output=True, text=True)
    return json.loads(run.stdout)['UserPoolClient'] if run.returncode == 0 else None


def emit(response):
    query = option('query')
    result = jmespath.search(query, response) if query else response
    if option('output') == 'text':
        print(text(result))
    else:
        print(json.dumps(result))


def text(value):
    if value is None:
        return 'None'
    if isinstance(value, list):
        if all(not isinstance(v, (list, dict)) for v in value):
            return '\t'.join(text(v) for v in value)
        return '\n'.join(text(v) for v in value)
    if isinstance(value, dict):
        return '\t'.join(text(v) for v in value.values())
    return str(value)


state = json.load(open(STATE)) if os.path.exists(STATE) else {'secrets': {}, 'brandings': {}}
pool = param('UserPoolId', 'user-pool-id')
operation = argv[1]


def secrets_of(client_id):
    """Seeds a client's secret list with the secret moto generated when it was created."""
    if client_id not in state['secrets']:
        client = real_client(pool, client_id)
        if client is None:
            fail('ResourceNotFoundException', f'Client {client_id} does not exist.')
        state['secrets'][client_id] = [{'ClientSecretId': 'initial-' + client_id, 'ClientSecretValue': client['ClientSecret'], 'ClientSecretCreateDate': 1.0}] if client.get('ClientSecret') else []
    elif real_client(pool, client_id) is None:
        fail('ResourceNotFoundException', f'Client {client_id} does not exist.')
    return state['secrets'][client_id]


if operation == 'list-user-pool-client-secrets':
    secrets = secrets_of(param('ClientId', 'client-id'))
    emit({'ClientSecrets': [{'ClientSecretId': s['ClientSecretId'], 'ClientSecretCreateDate': s['ClientSecretCreateDate']} for s in secrets]})
elif operation == 'add-user-pool-client-secret':
    secrets = secrets_of(param('ClientId', 'client-id'))
    if len(secrets) >= 2:
        fail('LimitExceededException', 'An app client can have at most 2 client secrets.')
    secret = {'ClientSecretId': str(uuid.uuid4()), 'ClientSecretValue': uuid.uuid4().hex + uuid.uuid4().hex[:20], 'ClientSecretCreateDate': time.time()}
    secrets.append(secret)
    emit({'ClientSecretDescriptor': secret})
elif operation == 'delete-user-pool-client-secret':
    secrets = secrets_of(param('ClientId', 'client-id'))
    secret_id = param('ClientSecretId', 'client-secret-id')
    if secret_id not in [s['ClientSecretId'] for s in secrets]:
        fail('ResourceNotFoundException', f'Client secret {secret_id} does not exist.')
    if len(secrets) == 1:
        fail('InvalidParameterException', 'You cannot delete the last remaining secret of an app client.')
    secrets[:] = [s for s in secrets if s['ClientSecretId'] != secret_id]
    emit({})
elif operation == 'create-managed-login-branding':
    client_id = param('ClientId', 'client-id')
    if real_client(pool, client_id) is None:
        fail('ResourceNotFoundException', f'Client {client_id} does not exist.')
    if client_id in state['brandings']:
        fail('ManagedLoginBrandingExistsException', f'Client {client_id} already has a managed login branding style.')
    branding = {'ManagedLoginBrandingId': str(uuid.uuid4()), 'UserPoolId': pool, 'UseCognitoProvidedValues': bool(request.get('UseCognitoProvidedValues'))}
    state['brandings'][client_id] = branding
    emit({'ManagedLoginBranding': branding})
elif operation == 'describe-managed-login-branding-by-client':
    client_id = param('ClientId', 'client-id')
    if client_id not in state['brandings']:
        fail('ResourceNotFoundException', f'No managed login branding style for client {client_id}.')
    emit({'ManagedLoginBranding': state['brandings'][client_id]})
elif operation == 'delete-managed-login-branding':
    branding_id = param('ManagedLoginBrandingId', 'managed-login-branding-id')
    owners = [c for c, b in state['brandings'].items() if b['ManagedLoginBrandingId'] == branding_id]
    if not owners:
        fail('ResourceNotFoundException', f'Managed login branding {branding_id} does not exist.')
    del state['brandings'][owners[0]]
    emit({})

with open(STATE, 'w') as f:
    json.dump(state, f)
