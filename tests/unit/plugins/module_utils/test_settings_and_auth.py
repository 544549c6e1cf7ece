# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import os

import pytest
import yaml

from ansible.module_utils.common.parameters import AnsibleFallbackNotFound

from ansible_collections.msgraph.migrations.plugins.module_utils import settings as settings_mod
from ansible_collections.msgraph.migrations.plugins.module_utils.auth import (
    AccessTokenCredential,
    ClientSecretCredential,
    create_credential,
    load_certificate_credential,
    resolve_auth_method,
)
from ansible_collections.msgraph.migrations.plugins.module_utils.errors import GraphMigrationsError, OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils.settings import GraphSettings, cloud_env, graph_argument_spec, non_empty_env

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def params(**overrides):
    values = {name: spec.get('default') for name, spec in graph_argument_spec().items()}
    values.update(overrides)
    return values


def test_version_matches_galaxy_yml():
    with open(os.path.join(COLLECTION_ROOT, 'galaxy.yml'), encoding='utf-8') as galaxy:
        assert yaml.safe_load(galaxy)['version'] == settings_mod.COLLECTION_VERSION


def test_non_empty_env_skips_empty_values(monkeypatch):
    monkeypatch.setenv('AZURE_TENANT_ID', '')
    monkeypatch.setenv('AZURE_TENANT', 'tenant-from-awx')
    assert non_empty_env('AZURE_TENANT_ID', 'AZURE_TENANT') == 'tenant-from-awx'
    monkeypatch.delenv('AZURE_TENANT')
    with pytest.raises(AnsibleFallbackNotFound):
        non_empty_env('AZURE_TENANT_ID', 'AZURE_TENANT')


@pytest.mark.parametrize('value, expected', [('AzureCloud', 'global'), ('AzureUSGovernment', 'usgov'),
                                             ('AzureChinaCloud', 'china'), ('usgov_dod', 'usgov_dod'), ('GLOBAL', 'global')])
def test_cloud_env_accepts_azure_names(monkeypatch, value, expected):
    monkeypatch.setenv('AZURE_CLOUD_ENVIRONMENT', value)
    assert cloud_env('AZURE_CLOUD_ENVIRONMENT') == expected


def test_clouds_set_both_endpoints_and_the_scope():
    settings = GraphSettings.from_params(params(cloud='usgov_dod'))
    assert settings.graph_endpoint == 'https://dod-graph.microsoft.us'
    assert settings.authority_host == 'https://login.microsoftonline.us'
    assert settings.graph_scope == 'https://dod-graph.microsoft.us/.default'
    override = GraphSettings.from_params(params(graph_endpoint='https://127.0.0.1:8443/', authority_host='https://127.0.0.1:8443'))
    assert override.graph_scope == 'https://127.0.0.1:8443/.default'
    assert override.graph_root == 'https://127.0.0.1:8443/v1.0'


@pytest.mark.parametrize('overrides, option', [
    (dict(graph_endpoint='http://127.0.0.1:8443'), 'graph_endpoint'),
    (dict(authority_host='http://login.microsoftonline.com'), 'authority_host'),
    (dict(access_token='two words'), 'access_token'),
    (dict(timeout=0), 'timeout'),
    (dict(max_retries=11), 'max_retries'),
    (dict(max_retries=-1), 'max_retries'),
    (dict(ca_path='/nonexistent/ca.pem'), 'ca_path'),
])
def test_bad_settings_name_the_option(overrides, option):
    with pytest.raises(OptionError) as caught:
        GraphSettings.from_params(params(**overrides))
    assert caught.value.option == option and option in str(caught.value)


def test_bare_authority_host_and_padded_secrets_are_accepted():
    settings = GraphSettings.from_params(params(authority_host='login.microsoftonline.us', access_token='tok\n', client_secret=' s \n'))
    assert settings.authority_host == 'https://login.microsoftonline.us'
    assert settings.access_token == 'tok' and settings.client_secret == 's'


def test_verify_follows_validate_certs_then_ca_path(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('x')
    assert GraphSettings.from_params(params(ca_path=str(ca))).verify == str(ca)
    assert GraphSettings.from_params(params(ca_path=str(ca), validate_certs=False)).verify is False
    assert GraphSettings.from_params(params()).verify is True


def test_repr_never_shows_secrets():
    settings = GraphSettings.from_params(params(client_secret='s3cr3t-value', access_token='tok-value'))
    assert 's3cr3t' not in repr(settings) and 'tok-value' not in repr(settings)


@pytest.mark.parametrize('given, method', [
    (dict(access_token='t', client_secret='s', client_certificate_path='/c'), 'access_token'),
    (dict(client_secret='s', client_certificate_path='/c', federated_token_file='/f'), 'certificate'),
    (dict(client_secret='s', federated_token_file='/f'), 'client_secret'),
    (dict(federated_token_file='/f'), 'federated_token'),
    (dict(auth_method='managed_identity', client_secret='s'), 'managed_identity'),
])
def test_auto_picks_in_the_documented_order(given, method):
    assert resolve_auth_method(GraphSettings.from_params(params(**given)), environ={}) == method


def test_auto_uses_managed_identity_only_where_an_endpoint_is_advertised():
    settings = GraphSettings.from_params(params())
    assert resolve_auth_method(settings, environ={'IDENTITY_ENDPOINT': 'https://127.0.0.1:1/msi'}) == 'managed_identity'
    with pytest.raises(GraphMigrationsError, match='No credentials found'):
        resolve_auth_method(settings, environ={})


def test_create_credential_validates_inputs_before_any_request():
    with pytest.raises(OptionError, match='tenant_id'):
        create_credential(GraphSettings.from_params(params(client_secret='s', client_id='c')), transport=None)
    with pytest.raises(OptionError, match='client_secret'):
        create_credential(GraphSettings.from_params(params(auth_method='client_secret', tenant_id='t', client_id='c')), transport=None)
    with pytest.raises(OptionError, match='federated_token_file'):
        create_credential(GraphSettings.from_params(params(federated_token_file='/nonexistent', tenant_id='t', client_id='c')),
                          transport=None)
    assert isinstance(create_credential(GraphSettings.from_params(params(access_token='tok')), transport=None), AccessTokenCredential)


def test_client_secret_credential_is_built_without_sending_anything():
    from ansible_collections.msgraph.migrations.plugins.module_utils.transport import Transport
    transport = Transport(True, 5)
    credential = create_credential(GraphSettings.from_params(params(client_secret='s', client_id='c', tenant_id='t')), transport)
    assert isinstance(credential, ClientSecretCredential)


def _certificate(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'migration-app')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = tmp_path / 'app.pem'
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b'pem-pass'))
                    + cert.public_bytes(serialization.Encoding.PEM))
    pfx = tmp_path / 'app.pfx'
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(b'app', key, cert, None, serialization.BestAvailableEncryption(b'pfx-pass')))
    return cert, pem, pfx


def test_certificates_load_from_pem_and_pkcs12_with_computed_thumbprint(tmp_path):
    from cryptography.hazmat.primitives import hashes
    cert, pem, pfx = _certificate(tmp_path)
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()
    for path, password in ((pem, 'pem-pass'), (pfx, 'pfx-pass')):
        credential = load_certificate_credential(str(path), password)
        assert credential['thumbprint'] == thumbprint
        assert 'PRIVATE KEY' in credential['private_key'] and 'CERTIFICATE' in credential['public_certificate']


def test_the_certificate_matching_the_key_is_used_from_a_full_chain(tmp_path):
    from cryptography.hazmat.primitives import hashes, serialization
    cert, pem, _pfx = _certificate(tmp_path)
    ca_dir = tmp_path / 'ca'
    ca_dir.mkdir()
    ca_cert, _ca_pem, _ca_pfx = _certificate(ca_dir)
    chain = tmp_path / 'chain.pem'
    chain.write_bytes(pem.read_bytes() + ca_cert.public_bytes(serialization.Encoding.PEM))
    assert load_certificate_credential(str(chain), 'pem-pass')['thumbprint'] == cert.fingerprint(hashes.SHA1()).hex().upper()


def test_wrong_certificate_password_names_the_option_not_the_password(tmp_path):
    _cert, pem, pfx = _certificate(tmp_path)
    for path in (pem, pfx):
        with pytest.raises(OptionError) as caught:
            load_certificate_credential(str(path), 'wrong-password-value')
        assert caught.value.option == 'client_certificate_password'
        assert 'wrong-password-value' not in str(caught.value)
    with pytest.raises(OptionError, match='client_certificate_path'):
        load_certificate_credential(str(tmp_path / 'missing.pem'), None)
