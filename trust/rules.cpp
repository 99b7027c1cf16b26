// The built-in secret rules. Where a rule's id is gitleaks' (config/
// gitleaks.toml, MIT licence, see trust/NOTICE), its pattern is gitleaks'
// pattern, sometimes narrowed (boundaries, keywords) for source code; rules
// marked "astfill" are our own. Each rule carries positive examples and
// near misses, which tests/trust/secrets_test.cpp checks. The example secrets
// are random strings of the right shape, not real credentials.
#include "trust/secrets.h"

namespace astfill::trust {
namespace {

// The end of a token: a quote, whitespace, ';', an escaped newline, or the end.
#define END R"((?:[\x60'"\s;,)\]}]|\\[nr]|$))"

// Values that name a secret rather than hold one: template and environment
// references, format directives, masks, and the usual stand-in words.
#define STAND_IN R"((?i)(?:(?:%\(?\w*\)?[sdrif]|\{[\w.]*\}|[^\w\s])+|\$\{[^}]*\}|\$\(?[A-Za-z_][\w]*\)?|\{\{[^}]*\}\}|\{[\w.]*\}|%\(?\w*\)?[sdr]|<[^>]*>|\*+|x+|\.+|-+|_+|password|passwd|pass|secret|changeme|example|your[_-]?\w*|none|null|nil|true|false|undefined|test|dummy|placeholder|redacted|hidden|todo|fixme))"

}  // namespace

const std::vector<SecretRule>& builtin_rules() {
  static const std::vector<SecretRule> rules = {
      // --- private keys -------------------------------------------------
      {"private-key", "private-key",
       // gitleaks, plus a block whose END line is not (yet) there.
       R"((?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]{64,}))",
       0, {"private key"}, 0, "",
       {"key = \"\"\"-----BEGIN RSA PRIVATE KEY-----\nv11K9B8xEabV2isDDf304eQ/oVctlpc6uRZ+txe8EjzAjp8XzRs0LU5XO+XIdlu/\na+iCOoxvSQSNFnviw2VueE0ubS+WFFui409hKgHLe1FvYiRst9gGr9dBUtV2+9Nr\n-----END RSA PRIVATE KEY-----\"\"\"",
        "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nJrbWqdHPF1GZrrsmYmxd5sjpKqMPY/CvxxWzfhbX7iYwDGOfFXtNL+mhPNLyiPzT\\niO1njj5c48XZjCdg3fFJZ26EZXP+Dke9w+VB5HF9/XNWauOzNYslwkMW7nv3AQVy\\n-----END PRIVATE KEY-----\\n\"",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nHkdPGtzEJWuY7Z36JwXImyBeSVcjfY45EasmNy6VaVvr3gNy1ZFC7cjk3yth/+8R\ntItTKMbjixmyUIThue/JZuenDTG0zy2kPCBfTwcV/9u4cJhBoNXA7UbTwHdWux0A\n"},
       {"-----BEGIN PUBLIC KEY-----\nCK5UkEZwTUqd2dAnBVLpuE27/yBGx3WC+9Hf6AeR4MrCuWsYeaL6z+D9hdVq/Q7T\n-----END PUBLIC KEY-----", "# a PRIVATE KEY must be kept safe"}},
      // --- cloud --------------------------------------------------------
      {"aws-access-token", "aws-access-key",
       R"(\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b)", 1, {"a3t", "akia", "asia", "abia", "acca"}, 3.0,
       "", {"aws_access_key_id = AKIAY4EQGXQ5HMVETPIJ", "'AccessKeyId': 'ASIAQGSNNI77NCVXAMJS'"}, {"AKIA_NOT_A_KEY", "ASIAN = 1"}},
      {"aws-secret-access-key", "aws-secret-key",  // astfill
       R"((?i)aws.{0,20}?(?:secret|sk|private).{0,20}?['"]?\s{0,3}(?::=|=>|=|:)\s{0,3}['"\x60]?([A-Za-z0-9/+=]{40}))" END,
       1, {"aws"}, 3.5, "", {"aws_secret_access_key = hH0hpcD4+V3cUsSZ46C4Dc6ClS+tvbIPQMBg6xzt", "AWS_SECRET_KEY: \"butCovoZppAAckFCmFA3bZMOT1e/fZ9xekG8HuLR\""},
       {"aws_secret_access_key = os.environ['AWS_SECRET_ACCESS_KEY']"}},
      {"gcp-api-key", "gcp-api-key", R"(\b(AIza[\w-]{35}))" END, 1, {"aiza"}, 3.0, "",
       {"GOOGLE_API_KEY = \"AIzaV_HXLgoKl_PrtNNXoI4DgV2n8BUzf-MQ3xc\""}, {"AIzaShort"}},
      {"azure-ad-client-secret", "azure-client-secret",
       R"((?:^|[\\'"\x60\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34}))" R"((?:$|[\\'"\x60\s<),]))", 1,
       {"q~"}, 3.0, "", {"client_secret = \"BGm8Q~ueBBvRbD5FTWyJxV9sQVsKkhFMPWvYdIIB\""}, {"x = \"Q~ not a secret\""}},
      {"azure-storage-account-key", "azure-storage-key",  // astfill
       R"((?i)AccountKey=([A-Za-z0-9+/]{86}==))", 1, {"accountkey"}, 3.5, "",
       {"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=DpdAWy/Bv3WLqXgralv6o8gjPowL5L0YoJSa0G7OHSrSTAulJuaRfvSBdfdwPDqPvzmwN0GPBYXLfFMPDM3yk7==;EndpointSuffix=core.windows.net"},
       {"AccountKey=<your key>"}},
      // --- code hosts and CI --------------------------------------------
      {"github-pat", "github-token", R"(\b(ghp_[0-9a-zA-Z]{36})\b)", 1, {"ghp_"}, 3.0, "",
       {"GITHUB_TOKEN = \"ghp_DTS7YllUNCd4y6Ff5TJF567k0J6hNZaUXbtH\"", "token: ghp_jUOaO4e3899CfKAxM3zYCFVqlKtOWote76jk"}, {"ghp_short", "ghp_6APuJqXwzIVhxIGd6fPm4pDvEsG1pQJErXmRx"}},
      {"github-fine-grained-pat", "github-token", R"(\b(github_pat_\w{82})\b)", 1, {"github_pat_"}, 3.0, "",
       {"export GH_TOKEN=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"}, {"github_pat_ = 1"}},
      {"github-oauth", "github-token", R"(\b(gho_[0-9a-zA-Z]{36})\b)", 1, {"gho_"}, 3.0, "", {"t = 'gho_Ts9yAm5QQq7UOQ2zFsLU5odQxqx9vHBGdqRk'"},
       {"gho_x"}},
      {"github-app-token", "github-token", R"(\b((?:ghu|ghs)_[0-9a-zA-Z]{36})\b)", 1, {"ghu_", "ghs_"}, 3.0, "",
       {"t = 'ghs_95o3lgvPY6okXLluMHU6RMfc9d2RE03KMlk9'", "ghu_zy0tDYckjl7LyPOCkzZ9yvhRQnPG1lghvch9"}, {"ghs_ = 2"}},
      {"github-refresh-token", "github-token", R"(\b(ghr_[0-9a-zA-Z]{36})\b)", 1, {"ghr_"}, 3.0, "",
       {"refresh = \"ghr_yZPvJzYUErfZU6zdWX6HKqjwHFfu1gDzAPC0\""}, {"ghr_1"}},
      {"gitlab-pat", "gitlab-token", R"(\b(glpat-[\w-]{20,300}))" END, 1, {"glpat-"}, 3.0, "",
       {"GITLAB_TOKEN=glpat-EWs4NZdApP6dXYVTKqpE"}, {"glpat-short"}},
      {"gitlab-ptt", "gitlab-token", R"(\b(glptt-[0-9a-f]{40})\b)", 1, {"glptt-"}, 3.0, "",
       {"trigger = \"glptt-88d7dca6ab99e02823ffadac7824526bccf342cf\""}, {"glptt-xyz"}},
      {"gitlab-runner-token", "gitlab-token", R"(\b(glrt-[\w-]{20}))" END, 1, {"glrt-"}, 3.0, "",
       {"token = \"glrt-mAYoor0nbkPUmdvMzMSV\""}, {"glrt-1"}},
      {"gitlab-deploy-token", "gitlab-token", R"(\b(gldt-[\w-]{20}))" END, 1, {"gldt-"}, 3.0, "",
       {"token = \"gldt-mKh7zs1f0L6r4W6cSW12\""}, {"gldt-1"}},
      {"atlassian-api-token", "atlassian-token", R"(\b(ATATT3[A-Za-z0-9_\-=]{186}))" END, 1, {"atatt3"}, 3.5, "",
       {"BITBUCKET_TOKEN = \"ATATT3p6FZyBwdxEVPrbbI5ic9FJ8Lyu8TDTW6fL2r0ORdqVutlUci9M5kKc0qG2kyNHoYbfqBSOYfYHwyEEY6qeFOV2vpIQvnakZETPOOz8LkaHaEq86ejlq1ciP6QKoE6OO1mm8x2Eud3jiPwsAQ9rtxyxn30Ml323v3Jc4YrpHqOIK1AoPMuvjJaVMdKc\""}, {"ATATT3short"}},
      {"bitbucket-client-secret", "bitbucket-secret",
       R"((?i)[\w.-]{0,50}?bitbucket(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([a-z0-9=_\-]{64}))" END,
       1, {"bitbucket"}, 3.5, "", {"bitbucket_client_secret = \"3k5137j711oj778cv4h961uq1hsbqpt4levv3w2l1w4o6lp5fykewj2s94yufmyt\""}, {"bitbucket_url = \"https://bitbucket.org\""}},
      {"npm-access-token", "npm-token", R"((?i)\b(npm_[a-z0-9]{36}))" END, 1, {"npm_"}, 3.0, "",
       {"//registry.npmjs.org/:_authToken=npm_KN0oHdYuxtRIYuMOblQWaytChYW1kRUUebnp"}, {"npm_config_cache = 1"}},
      {"pypi-upload-token", "pypi-token", R"(\b(pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}))", 1, {"pypi-ageichlwas5vcmc"},
       3.0, "", {"password = pypi-AgEIcHlwaS5vcmcSR7Be_NRzkNneCbKfY5RFANciERB5LmiXP2adKUPUwiXmtXN6OW3YGgtlAwU"}, {"pypi-AgEIcHlwaS5vcmc"}},
      // CI systems (astfill: written from the token formats). CircleCI's
      // personal and project tokens have a prefix; its legacy tokens (40 hex),
      // Travis CI's (22) and Drone's (32) have none and are found only where
      // a name says whose token it is.
      {"circleci-api-token", "circleci-token",  // astfill
       R"(\b(CCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[0-9a-f]{40})\b)", 1, {"ccipat_", "cciprj_"}, 3.0, "",
       {"CIRCLECI_TOKEN=CCIPAT_mED17guwiI7f37rKpKoDCR_009f8db266792b4d7c5cf778ec58879878f59bb3",
        "headers = {'Circle-Token': 'CCIPRJ_EzqmprJeHlCBA8LWl57YlV_6e47114211254a2cd37ab2c06dbaccbdc9f498f6'}"},
       {"CCIPAT_ = None", "CCIPAT_mED17guwiI7f37rKpKoDCR_009f8db266792b4d7c5cf778ec58879878f59bb",
        "prefix = 'CCIPRJ_' + project_id"}},
      {"circleci-token-assignment", "circleci-token",  // astfill
       R"((?i)circle(?:ci)?[\w.-]{0,20}?(?:token|key|secret)[\w.-]{0,20}['"]?\s{0,3}(?::=|=>|=|:)\s{0,3}['"\x60]?([0-9a-f]{40}))" END,
       1, {"circle"}, 3.0, STAND_IN,
       {"CIRCLE_TOKEN=c9fdf9424c8e2c38f9c3e0abe728517e4ede121e", "circleci_api_key: \"5b0f7ea2c84f6e31a9d27b3e8c0a4f15d6e9b273\""},
       {"CIRCLE_TOKEN = os.environ['CIRCLE_TOKEN']", "circle_key = 'c9fdf9424c8e2c38f9c3e0abe728517e4ede121'",
        "circle_token: ${CIRCLE_TOKEN}", "sha = \"c9fdf9424c8e2c38f9c3e0abe728517e4ede121e\""}},
      {"travis-ci-token", "travis-token",  // astfill
       R"((?i)travis[\w.-]{0,20}?(?:token|key|secret)[\w.-]{0,20}['"]?\s{0,3}(?::=|=>|=|:)\s{0,3}['"\x60]?([A-Za-z0-9_-]{22}))" END,
       1, {"travis"}, 3.0, STAND_IN,
       {"TRAVIS_TOKEN=BnT4BmEKLNbVvs1nMUXf1J", "travis_api_token = \"a2L9oKX3sjH4JVhM0KW657\""},
       {"TRAVIS_TOKEN = os.environ[\"TRAVIS_TOKEN\"]", "travis_token: \"$TRAVIS_API_TOKEN\"",
        "travis_token = a2L9oKX3sjH4JVhM0KW65", "travis_build_id = \"a2L9oKX3sjH4JVhM0KW657\""}},
      {"drone-ci-token", "drone-token",  // astfill
       R"((?i)drone[\w.-]{0,20}?(?:token|key|secret)[\w.-]{0,20}['"]?\s{0,3}(?::=|=>|=|:)\s{0,3}['"\x60]?([A-Za-z0-9]{32}))" END,
       1, {"drone"}, 3.0, STAND_IN,
       {"export DRONE_TOKEN=mGkoNWRjLz1Rp75IKkGKdXiDP6b6W7HQ", "drone_api_key: 'y121aMbb9uGrCxyum5VvgUV9Zk5rlcmO'"},
       {"DRONE_TOKEN = getenv(\"DRONE_TOKEN\")", "DRONE_TOKEN=mGkoNWRjLz1Rp75IKkGKdXiDP6b6W7H",
        "drone_server = \"https://drone.example.com/abcdefghijkl\"", "drone_token = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""}},
      {"buildkite-user-token", "buildkite-token",  // astfill
       R"(\b(bkua_[A-Za-z0-9]{40})\b)", 1, {"bkua_"}, 3.0, "",
       {"BUILDKITE_API_TOKEN=bkua_4cbc65acd38992c97c85dc874dce565e55ff6149",
        "token: \"bkua_c41e88956197a93504c81e2c2ae1ba2b188918a9\""},
       {"bkua_ = 1", "bkua_4cbc65acd38992c97c85dc874dce565e55ff614", "bkua_0000000000000000000000000000000000000000"}},
      // --- AI services (astfill: written from the token formats) ---------
      {"huggingface-token", "huggingface-token",  // astfill: hf_ and 34 letters of both cases
       R"(\b(hf_[A-Za-z]{34})\b)", 1, {"hf_"}, 3.0, R"(hf_(?:[a-z]+|[A-Z]+))",
       {"HF_TOKEN = \"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\"", "login(token='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')"},
       {"from huggingface_hub import hf_hub_download", "hf_qAfVoAmArCVfmYRqPytnCYjgxWclELbTh",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz12345678", "def 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(): pass", "HF_PREFIX = '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'"}},
      {"openai-api-key", "openai-key",  // astfill: legacy keys and project, service-account, admin keys
       R"(\b(sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}|sk-proj-[A-Za-z0-9_-]{40,300}))" END,
       1, {"t3blbkfj", "sk-proj-"}, 3.0, "",
       {"OPENAI_API_KEY=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",
        "client = OpenAI(api_key=\"sk-proj-nATJoVQ1hVxxERMR2kdOIfLbVdAJmku80LprxWp15p9Gy6MwT3BlbkFJhPpAGTLZkUJneuRAZusQz2GR5_kBagK20t7_7K-RYRMxTqPY\")",
        "key: sk-proj-zQDP-7f6oyYT0gC2ceVI2Yz8VgBZHmg-gS09bWzYjmjiCd8dmnWsV6u-K5g-Co9y"},
       {"key = \"sk-T3BlbkFJ\"", "sk-proj-short", "task-proj-zQDP-7f6oyYT0gC2ceVI2Yz8VgBZHmg-gS09bWzYjmjiCd8dmnWsV6u",
        "magic = 'T3BlbkFJ'"}},
      // --- chat and payments --------------------------------------------
      {"slack-bot-token", "slack-token", R"((xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*))", 1, {"xoxb"}, 3.0, "",
       {"SLACK_BOT_TOKEN = \"xoxb-619488764063-024771485681-M2ctoEqWB4g24xa2jvJ9Bb35\""}, {"xoxb-123"}},
      {"slack-user-token", "slack-token", R"((xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}))", 1,
       {"xoxp-", "xoxe-"}, 3.0, "", {"t = 'xoxp-245176125032-227978147992-205161454135-7fa5f9295d4dd0886cce572eebe39386'"}, {"xoxp-1-2"}},
      {"slack-app-token", "slack-token", R"((?i)(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+))", 1, {"xapp"}, 3.0, "",
       {"SLACK_APP_TOKEN=xapp-1-MGEOAVC3G9V-8898134970597-4d07e6e48647449b5cf037d2e3b5be7f53b11c0405989a478ac0b0deb393aa1e"}, {"xapp-config"}},
      {"slack-webhook-url", "slack-webhook",
       R"(((?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}))", 1,
       {"hooks.slack.com"}, 3.0, "", {"url = \"https://hooks.slack.com/services/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\""},
       {"see https://hooks.slack.com/services/ for details"}},
      {"stripe-access-token", "stripe-key", R"(\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})\b)", 1,
       {"sk_test", "sk_live", "sk_prod", "rk_test", "rk_live", "rk_prod"}, 3.0, "",
       {"stripe.api_key = \"sk_live_wpoTfcTeAoVyzb82puGRBZYY\""}, {"sk_test_ = None"}},
      // --- tokens and URLs ----------------------------------------------
      {"jwt", "jwt",
       R"(\b(eyJ[A-Za-z0-9_-]{15,}\.eyJ[A-Za-z0-9_-]{15,}\.(?:[A-Za-z0-9_-]{10,}={0,2})?))" END, 1, {"eyj"}, 3.0, "",
       {"Authorization: Bearer eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTIzNDU2Nzg5MCIsICJuYW1lIjogImFzdGZpbGwgdGVzdCJ9.qti63Dbtno_5lk-g5aIvoCsmMM8DEia3K_86BURI8R-"}, {"eyJhbGciOi"}},
      {"database-url-password", "password",  // astfill
       R"((?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse)(?:\+[a-z0-9]+)?://[^\s:@/'"\x60]+:([^\s@/'"\x60]+)@)",
       1, {"postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql", "sqlserver", "oracle", "cockroachdb",
           "clickhouse"},
       0, STAND_IN,
       {"DATABASE_URL = \"postgres://app:3c56WjmLvIf0vtkz@db.internal:5432/app\"", "mongodb+srv://admin:hunter2@cluster0/x"},
       {"postgres://user:password@localhost/db", "postgresql://app:${DB_PASSWORD}@db/app", "redis://localhost:6379/0"}},
      // --- assignments (in the spirit of gitleaks' generic-api-key) -------
      {"password-assignment", "password",  // astfill: any literal, no entropy threshold
       R"((?i)(?:^|[^\w])(?:[\w-]{0,40}?(?:passwd|password|passwort|passphrase|pwd)|(?:[\w-]{0,40}[_.-])?pass)['"]?\s{0,3}(?::=|=>|=|:)\s{0,3}[bruf]{0,2}['"\x60]([^\s'"\x60\\]{4,128})['"\x60])",
       1, {"pass", "pwd"}, 0, STAND_IN,
       {"DB_PASSWORD = \"hunter2\"", "{\"password\": \"s3cr3t!x\"}", "self.db_pass = 'correct-horse'",
        "PGPASSWORD: 'Tr0ub4dor&3'"},
       {"password = \"\"", "password = \"${DB_PASSWORD}\"", "password = input('Password: ')", "bypass = \"full\"",
        "password = \"<secret:password>\"", "password = \"%s\"", "user_pass = '%s:%s' % (user, pw)", "password_prompt = \"Enter your password\""}},
      {"generic-api-key", "api-key",
       R"((?i)(?:^|[^\w])[\w.-]{0,40}?(?:api[_.-]?key|apikey|secret|token|access[_.-]?key|auth[_.-]?key|private[_.-]?key|client[_.-]?secret|credentials?|signing[_.-]?key)[\w.-]{0,20}['"]?\s{0,3}(?::=|=>|=|:)\s{0,3}[bruf]{0,2}['"\x60]([\w.=+/~@!#%^&*-]{10,150})['"\x60])",
       1, {"key", "secret", "token", "credential"}, 3.5, R"([A-Za-z_.\-]+|)" STAND_IN,
       {"API_KEY = \"tHYIhf6J6yX5pOsFDxNZ7Lblfl0ybV5y\"", "client_secret: 'xk8S21w6hpGMlYCSRnEgxgdy6TjoGITjw7viK0xV'", "headers = {'X-Auth-Token': '14f1e143921f73f56c6ac801201d9e5d40e5e5be'}"},
       {"api_key = \"my.module.path\"", "token = \"xxxxxxxxxxxxxxxx\"", "SECRET_KEY = \"change-me-please\"",
        "token_type = \"bearer\"", "key = \"1234567890\""}},
  };
  return rules;
}

}  // namespace astfill::trust
