//! Well-known registry modules: what a call of a `terraform-aws-modules/*` module creates,
//! without the module's source (threat-analyzer never opens the network).
//!
//! Owns: [`MODULES`], the one table of the modules it knows (vpc, security-group, rds,
//! s3-bucket, alb, ec2-instance): for each, the resources the module creates (addressed as
//! Terraform addresses them: `module.db.module.db_instance.aws_db_instance.this`; a resource
//! with `count` is one element, as everywhere in the extractor, except the per-item rules,
//! listeners and target groups, which carry their index), when it creates them, how its input
//! variables map onto their attributes with the module's own defaults, and which resource
//! each output comes from; the source forms that name a module (registry
//! `terraform-aws-modules/rds/aws[//sub]`, `github.com/terraform-aws-modules/terraform-aws-rds`,
//! `git::https://github.com/...git?ref=v6.1.0`), the version check, and [`expand`] and
//! [`output`], which turn a call into synthetic resources and a `module.M.OUT` into a value.
//! Every mapping cites the module file and variable it was read from (the search tool's copy
//! of the module repository, at the commit named in [`Known::read`]).
//!
//! Must never: guess. An input that is not statically known stays [`Value::Unknown`] (the rule
//! reading it skips); a creation condition or list that is not known is assumed to hold and
//! says so as an [`Unknown`]; a version constraint outside the majors the table was read from
//! is applied with an [`Unknown`] naming the assumption; a module, submodule or output the
//! table does not know is an [`Unknown`], as before.

use std::collections::BTreeMap;

use crate::infra::model::{Attr, Element, Format, Origin, Unknown, Value};

/// A call of a registry module, its arguments evaluated in the caller.
pub struct Call {
    /// `module.db.` (with the caller's own prefix).
    pub prefix: String,
    /// The `module` block.
    pub origin: Origin,
    /// Arguments by name (not `source`, `version`, `providers`, `count`, `for_each`,
    /// `depends_on`).
    pub inputs: BTreeMap<String, Attr>,
}

impl Call {
    fn input(&self, name: &str) -> Option<&Attr> {
        self.inputs.get(name).filter(|a| a.value != Value::Null)
    }
    /// The origin of what set `name`: its argument, or the module block for a default.
    fn origin_of(&self, name: &str) -> Origin {
        self.input(name).map_or_else(|| self.origin.clone(), |a| a.origin.clone())
    }
}

/// The value a module gives an input the caller does not set (its `variables.tf` default).
#[derive(Clone, Copy, Debug)]
pub enum Fallback {
    Bool(bool),
    Str(&'static str),
    Num(&'static str),
    /// `null`: the module passes null, so the attribute is left out and the provider's default
    /// applies (what the rules already read for a missing attribute).
    Null,
    EmptyList,
}

/// When a module creates a resource (its `count` condition over inputs).
#[derive(Clone, Copy, Debug)]
pub enum When {
    Always,
    /// A bool input with its default is true.
    True(&'static str, bool),
    /// A bool input with its default is false.
    False(&'static str, bool),
    /// A list or map input (default empty) is not empty.
    NonEmpty(&'static str),
    /// A string input (default null) is set.
    Set(&'static str),
    All(&'static [When]),
    Any(&'static [When]),
}

/// Where a synthetic attribute's value comes from.
#[derive(Clone, Copy)]
pub enum Via {
    /// The caller's argument, else the module's default.
    Input(&'static str, Fallback),
    /// A reference to another resource of the module (`aws_vpc.this`).
    Internal(&'static str),
    /// A list of one reference (`subnet_ids = aws_subnet.database[*].id`).
    Internals(&'static str),
    /// A value the module writes itself.
    Fixed(Fallback),
    /// Computed from the inputs by a small function (an expression of the module's main.tf).
    Derived(fn(&Call) -> Option<Attr>),
}

/// One attribute of a synthetic resource: the first row for an attribute whose `when` holds
/// wins.
pub struct Arg {
    pub attribute: &'static str,
    pub from: Via,
    pub when: When,
}

/// One resource a module creates.
pub struct Synth {
    /// Its address inside the module (`aws_vpc.this`, `module.db_instance.aws_db_instance.this`).
    pub address: &'static str,
    pub when: When,
    pub args: &'static [Arg],
}

/// What an output is.
#[derive(Clone, Copy)]
pub enum OutValue {
    /// A reference to one resource of the module.
    Resource(&'static str),
    /// A list of references (the subnets of `aws_subnet.private[*].id`).
    Resources(&'static str),
    /// An input passed through (`vpc_cidr_block` is `var.cidr`).
    Input(&'static str),
}

/// One output row: the first row for a name whose `when` holds wins.
pub struct Out {
    pub name: &'static str,
    pub when: When,
    pub value: OutValue,
}

/// A submodule the table knows (`//modules/ssh` of security-group): it calls the root module
/// as `module.<inner>` with some list inputs extended.
pub struct Sub {
    pub path: &'static str,
    /// `module.sg.`
    pub inner: &'static str,
    /// Inputs the submodule prepends to the caller's (`ingress_rules = concat(auto, var)`).
    pub auto: &'static [(&'static str, &'static [&'static str])],
}

/// Synthesizes the per-item resources of a call under a base address.
pub type Expander = fn(&Call, &str, &mut Vec<Element>, &mut Vec<Unknown>);

/// A source the table knows: the module, the submodule named, the parsed source.
pub type Found = (&'static Known, Option<&'static Sub>, Source);

/// One registry module of the table.
pub struct Known {
    /// `terraform-aws-modules/rds/aws`.
    pub source: &'static str,
    /// `terraform-aws-rds`.
    pub repo: &'static str,
    /// The major versions whose sources the mapping was read from (inclusive).
    pub majors: (u64, u64),
    /// The files and commits read.
    pub read: &'static str,
    pub resources: &'static [Synth],
    /// Resources created per item of a list input (rules, listeners, target groups).
    pub expand: Option<Expander>,
    pub outputs: &'static [Out],
    pub subs: &'static [Sub],
    /// Inputs that change what the module exposes but that the table does not map: given,
    /// each is an [`Unknown`] saying so (never dropped silently).
    pub unread: &'static [(&'static str, &'static str)],
}

use Fallback as D;
use Via::{Derived, Fixed, Input, Internal, Internals};
use When::{Always, NonEmpty, Set};

const fn arg(attribute: &'static str, from: Via) -> Arg {
    Arg { attribute, from, when: Always }
}
const fn input(attribute: &'static str, default: Fallback) -> Arg {
    Arg { attribute, from: Input(attribute, default), when: Always }
}
const fn out(name: &'static str, value: OutValue) -> Out {
    Out { name, when: Always, value }
}

// ---- vpc ---------------------------------------------------------------------------------------
// terraform-aws-modules/terraform-aws-vpc main.tf and outputs.tf at 00ba9a31 (3.x: the
// resource names and count conditions below are those of 3.x to 5.x).

const VPC_ON: When = When::True("create_vpc", true); // variables.tf create_vpc (default true)
const IGW: When = When::All(&[VPC_ON, When::True("create_igw", true), NonEmpty("public_subnets")]);
const PRIVATE_TABLES: When = When::All(&[
    VPC_ON,
    // main.tf local.max_subnet_length: private, elasticache, database, neptune, redshift
    When::Any(&[
        NonEmpty("private_subnets"),
        NonEmpty("database_subnets"),
        NonEmpty("elasticache_subnets"),
        NonEmpty("redshift_subnets"),
    ]),
]);
const DB_TABLE: When =
    When::All(&[NonEmpty("database_subnets"), When::True("create_database_subnet_route_table", false)]);

const VPC_ID: Arg = arg("vpc_id", Internal("aws_vpc.this"));

static VPC: Known = Known {
    source: "terraform-aws-modules/vpc/aws",
    repo: "terraform-aws-vpc",
    majors: (3, 5),
    read: "main.tf, outputs.tf @00ba9a31",
    resources: &[
        // main.tf aws_vpc.this: cidr_block = var.cidr
        Synth { address: "aws_vpc.this", when: VPC_ON, args: &[arg("cidr_block", Input("cidr", D::Null))] },
        // main.tf aws_internet_gateway.this: count create_vpc && create_igw && length(public_subnets) > 0
        Synth { address: "aws_internet_gateway.this", when: IGW, args: &[VPC_ID] },
        // main.tf aws_subnet.public: cidr_block from var.public_subnets,
        // map_public_ip_on_launch = var.map_public_ip_on_launch (its default differs between
        // majors: left to the route table below unless the caller sets it)
        Synth {
            address: "aws_subnet.public",
            when: When::All(&[VPC_ON, NonEmpty("public_subnets")]),
            args: &[
                VPC_ID,
                arg("cidr_block", Input("public_subnets", D::EmptyList)),
                input("map_public_ip_on_launch", D::Null),
            ],
        },
        // main.tf aws_route_table.public: count length(public_subnets) > 0
        Synth {
            address: "aws_route_table.public",
            when: When::All(&[VPC_ON, NonEmpty("public_subnets")]),
            args: &[VPC_ID],
        },
        // main.tf aws_route.public_internet_gateway: 0.0.0.0/0 to aws_internet_gateway.this
        Synth {
            address: "aws_route.public_internet_gateway",
            when: IGW,
            args: &[
                arg("route_table_id", Internal("aws_route_table.public")),
                arg("destination_cidr_block", Fixed(D::Str("0.0.0.0/0"))),
                arg("gateway_id", Internal("aws_internet_gateway.this")),
            ],
        },
        // main.tf aws_route_table_association.public: every public subnet to aws_route_table.public
        Synth {
            address: "aws_route_table_association.public",
            when: When::All(&[VPC_ON, NonEmpty("public_subnets")]),
            args: &[
                arg("subnet_id", Internal("aws_subnet.public")),
                arg("route_table_id", Internal("aws_route_table.public")),
            ],
        },
        // main.tf aws_subnet.private: cidr_block from var.private_subnets
        Synth {
            address: "aws_subnet.private",
            when: When::All(&[VPC_ON, NonEmpty("private_subnets")]),
            args: &[VPC_ID, arg("cidr_block", Input("private_subnets", D::EmptyList))],
        },
        // main.tf aws_route_table.private: count local.nat_gateway_count when max_subnet_length > 0
        Synth { address: "aws_route_table.private", when: PRIVATE_TABLES, args: &[VPC_ID] },
        // main.tf aws_nat_gateway.this in a public subnet (enable_nat_gateway, default false) and
        // aws_route.private_nat_gateway: the private tables route 0.0.0.0/0 to a NAT gateway,
        // never to the internet gateway
        Synth {
            address: "aws_nat_gateway.this",
            when: When::All(&[VPC_ON, When::True("enable_nat_gateway", false)]),
            args: &[arg("subnet_id", Internal("aws_subnet.public"))],
        },
        Synth {
            address: "aws_route.private_nat_gateway",
            when: When::All(&[VPC_ON, When::True("enable_nat_gateway", false)]),
            args: &[
                arg("route_table_id", Internal("aws_route_table.private")),
                arg("destination_cidr_block", Fixed(D::Str("0.0.0.0/0"))),
                arg("nat_gateway_id", Internal("aws_nat_gateway.this")),
            ],
        },
        // main.tf aws_route_table_association.private: private subnets to aws_route_table.private
        Synth {
            address: "aws_route_table_association.private",
            when: When::All(&[VPC_ON, NonEmpty("private_subnets")]),
            args: &[
                arg("subnet_id", Internal("aws_subnet.private")),
                arg("route_table_id", Internal("aws_route_table.private")),
            ],
        },
        // main.tf aws_subnet.database: cidr_block from var.database_subnets
        Synth {
            address: "aws_subnet.database",
            when: When::All(&[VPC_ON, NonEmpty("database_subnets")]),
            args: &[VPC_ID, arg("cidr_block", Input("database_subnets", D::EmptyList))],
        },
        // main.tf aws_route_table.database: only with create_database_subnet_route_table (default
        // false); aws_route.database_internet_gateway: with create_database_internet_gateway_route
        // (default false) and not create_database_nat_gateway_route (default false)
        Synth { address: "aws_route_table.database", when: DB_TABLE, args: &[VPC_ID] },
        Synth {
            address: "aws_route.database_internet_gateway",
            when: When::All(&[
                DB_TABLE,
                When::True("create_igw", true),
                When::True("create_database_internet_gateway_route", false),
                When::False("create_database_nat_gateway_route", false),
            ]),
            args: &[
                arg("route_table_id", Internal("aws_route_table.database")),
                arg("destination_cidr_block", Fixed(D::Str("0.0.0.0/0"))),
                arg("gateway_id", Internal("aws_internet_gateway.this")),
            ],
        },
        // main.tf aws_route_table_association.database: coalescelist(aws_route_table.database,
        // aws_route_table.private)
        Synth {
            address: "aws_route_table_association.database",
            when: When::All(&[VPC_ON, NonEmpty("database_subnets")]),
            args: &[
                arg("subnet_id", Internal("aws_subnet.database")),
                Arg {
                    attribute: "route_table_id",
                    from: Internal("aws_route_table.database"),
                    when: DB_TABLE,
                },
                arg("route_table_id", Internal("aws_route_table.private")),
            ],
        },
        // main.tf aws_db_subnet_group.database: create_database_subnet_group (default true),
        // subnet_ids = aws_subnet.database[*].id
        Synth {
            address: "aws_db_subnet_group.database",
            when: When::All(&[
                VPC_ON,
                NonEmpty("database_subnets"),
                When::True("create_database_subnet_group", true),
            ]),
            args: &[arg("subnet_ids", Internals("aws_subnet.database"))],
        },
        // main.tf aws_subnet.elasticache, aws_route_table_association.elasticache (to
        // aws_route_table.elasticache, which has no route, or to aws_route_table.private) and
        // aws_elasticache_subnet_group.elasticache (create_elasticache_subnet_group, default true)
        Synth {
            address: "aws_subnet.elasticache",
            when: When::All(&[VPC_ON, NonEmpty("elasticache_subnets")]),
            args: &[VPC_ID, arg("cidr_block", Input("elasticache_subnets", D::EmptyList))],
        },
        Synth {
            address: "aws_route_table_association.elasticache",
            when: When::All(&[VPC_ON, NonEmpty("elasticache_subnets")]),
            args: &[
                arg("subnet_id", Internal("aws_subnet.elasticache")),
                arg("route_table_id", Internal("aws_route_table.private")),
            ],
        },
        Synth {
            address: "aws_elasticache_subnet_group.elasticache",
            when: When::All(&[
                VPC_ON,
                NonEmpty("elasticache_subnets"),
                When::True("create_elasticache_subnet_group", true),
            ]),
            args: &[arg("subnet_ids", Internals("aws_subnet.elasticache"))],
        },
        // main.tf aws_subnet.intra, aws_route_table.intra (no route at all),
        // aws_route_table_association.intra
        Synth {
            address: "aws_subnet.intra",
            when: When::All(&[VPC_ON, NonEmpty("intra_subnets")]),
            args: &[VPC_ID, arg("cidr_block", Input("intra_subnets", D::EmptyList))],
        },
        Synth {
            address: "aws_route_table.intra",
            when: When::All(&[VPC_ON, NonEmpty("intra_subnets")]),
            args: &[VPC_ID],
        },
        Synth {
            address: "aws_route_table_association.intra",
            when: When::All(&[VPC_ON, NonEmpty("intra_subnets")]),
            args: &[
                arg("subnet_id", Internal("aws_subnet.intra")),
                arg("route_table_id", Internal("aws_route_table.intra")),
            ],
        },
    ],
    expand: None,
    // outputs.tf
    outputs: &[
        out("vpc_id", OutValue::Resource("aws_vpc.this")),
        out("vpc_arn", OutValue::Resource("aws_vpc.this")),
        out("vpc_cidr_block", OutValue::Input("cidr")),
        out("igw_id", OutValue::Resource("aws_internet_gateway.this")),
        out("public_subnets", OutValue::Resources("aws_subnet.public")),
        out("private_subnets", OutValue::Resources("aws_subnet.private")),
        out("database_subnets", OutValue::Resources("aws_subnet.database")),
        out("elasticache_subnets", OutValue::Resources("aws_subnet.elasticache")),
        out("intra_subnets", OutValue::Resources("aws_subnet.intra")),
        out("database_subnet_group", OutValue::Resource("aws_db_subnet_group.database")),
        out("database_subnet_group_name", OutValue::Resource("aws_db_subnet_group.database")),
        out("elasticache_subnet_group", OutValue::Resource("aws_elasticache_subnet_group.elasticache")),
        out("elasticache_subnet_group_name", OutValue::Resource("aws_elasticache_subnet_group.elasticache")),
        out("public_route_table_ids", OutValue::Resources("aws_route_table.public")),
        out("private_route_table_ids", OutValue::Resources("aws_route_table.private")),
        out("natgw_ids", OutValue::Resources("aws_nat_gateway.this")),
    ],
    subs: &[],
    unread: &[
        ("default_security_group_ingress", "the VPC's default security group rules are not derived"),
        ("redshift_subnets", "redshift subnets are not derived"),
        ("neptune_subnets", "neptune subnets are not derived"),
        ("outpost_subnets", "outpost subnets are not derived"),
    ],
};

// ---- security-group ----------------------------------------------------------------------------
// terraform-aws-modules/terraform-aws-security-group main.tf and variables.tf @00894553 (4.x/5.x)
// and rules.tf @015559ca (the named rules and the auto_groups of the submodules).

const SG_CREATE: When = When::All(&[When::True("create", true), When::True("create_sg", true)]);
const SG_PREFIXED: When = When::All(&[SG_CREATE, When::True("use_name_prefix", true)]);

static SECURITY_GROUP: Known = Known {
    source: "terraform-aws-modules/security-group/aws",
    repo: "terraform-aws-security-group",
    majors: (4, 5),
    read: "main.tf, variables.tf @00894553; rules.tf @015559ca",
    resources: &[
        // main.tf aws_security_group.this_name_prefix (use_name_prefix, default true) or
        // aws_security_group.this: vpc_id = var.vpc_id
        Synth {
            address: "aws_security_group.this_name_prefix",
            when: SG_PREFIXED,
            args: &[input("vpc_id", D::Null), arg("name_prefix", Input("name", D::Null))],
        },
        Synth {
            address: "aws_security_group.this",
            when: When::All(&[SG_CREATE, When::False("use_name_prefix", true)]),
            args: &[input("vpc_id", D::Null), input("name", D::Null)],
        },
    ],
    expand: Some(security_group_rules),
    outputs: &[
        // outputs.tf security_group_id = local.this_sg_id: the group created, else
        // var.security_group_id
        Out {
            name: "security_group_id",
            when: SG_PREFIXED,
            value: OutValue::Resource("aws_security_group.this_name_prefix"),
        },
        Out {
            name: "security_group_id",
            when: SG_CREATE,
            value: OutValue::Resource("aws_security_group.this"),
        },
        out("security_group_id", OutValue::Input("security_group_id")),
    ],
    // rules.tf auto_groups: each submodule (modules/<group>, generated from
    // modules/_templates) calls the root module as module "sg" with ingress_rules =
    // concat(auto_ingress_rules, var.ingress_rules). The template's main.tf is not in the
    // index: the `module.sg.` address is the template's, as its README and the auto_values
    // name it.
    subs: &[
        Sub { path: "modules/ssh", inner: "module.sg.", auto: &[("ingress_rules", &["ssh-tcp"])] },
        Sub { path: "modules/rdp", inner: "module.sg.", auto: &[("ingress_rules", &["rdp-tcp", "rdp-udp"])] },
        Sub { path: "modules/http-80", inner: "module.sg.", auto: &[("ingress_rules", &["http-80-tcp"])] },
        Sub {
            path: "modules/http-8080",
            inner: "module.sg.",
            auto: &[("ingress_rules", &["http-8080-tcp"])],
        },
        Sub {
            path: "modules/https-443",
            inner: "module.sg.",
            auto: &[("ingress_rules", &["https-443-tcp"])],
        },
        Sub {
            path: "modules/web",
            inner: "module.sg.",
            auto: &[("ingress_rules", &["http-80-tcp", "http-8080-tcp", "https-443-tcp", "web-jmx-tcp"])],
        },
        Sub {
            path: "modules/postgresql",
            inner: "module.sg.",
            auto: &[("ingress_rules", &["postgresql-tcp"])],
        },
        Sub { path: "modules/mysql", inner: "module.sg.", auto: &[("ingress_rules", &["mysql-tcp"])] },
        Sub {
            path: "modules/mssql",
            inner: "module.sg.",
            auto: &[(
                "ingress_rules",
                &["mssql-tcp", "mssql-udp", "mssql-analytics-tcp", "mssql-broker-tcp"],
            )],
        },
        Sub { path: "modules/redis", inner: "module.sg.", auto: &[("ingress_rules", &["redis-tcp"])] },
        Sub {
            path: "modules/mongodb",
            inner: "module.sg.",
            auto: &[("ingress_rules", &["mongodb-27017-tcp", "mongodb-27018-tcp", "mongodb-27019-tcp"])],
        },
        Sub {
            path: "modules/elasticsearch",
            inner: "module.sg.",
            auto: &[("ingress_rules", &["elasticsearch-rest-tcp", "elasticsearch-java-tcp"])],
        },
    ],
    unread: &[
        ("ingress_with_self", "ingress from the group itself is not derived"),
        ("computed_ingress_rules", "computed rules are not derived"),
        ("computed_ingress_with_cidr_blocks", "computed rules are not derived"),
        ("computed_ingress_with_source_security_group_id", "computed rules are not derived"),
    ],
};

/// rules.tf `variable "rules"`: name = [from port, to port, protocol] (the ones a baseline
/// cares about: administration and data ports, the web, and the catch-alls).
const NAMED_RULES: &[(&str, (i64, i64, &str))] = &[
    ("all-all", (-1, -1, "-1")),
    ("all-icmp", (-1, -1, "icmp")),
    ("all-tcp", (0, 65535, "tcp")),
    ("all-udp", (0, 65535, "udp")),
    ("cassandra-clients-tcp", (9042, 9042, "tcp")),
    ("consul-webui-http-tcp", (8500, 8500, "tcp")),
    ("dns-tcp", (53, 53, "tcp")),
    ("dns-udp", (53, 53, "udp")),
    ("docker-swarm-mngmt-tcp", (2377, 2377, "tcp")),
    ("elasticsearch-java-tcp", (9300, 9300, "tcp")),
    ("elasticsearch-rest-tcp", (9200, 9200, "tcp")),
    ("etcd-client-tcp", (2379, 2379, "tcp")),
    ("grafana-tcp", (3000, 3000, "tcp")),
    ("http-80-tcp", (80, 80, "tcp")),
    ("http-8080-tcp", (8080, 8080, "tcp")),
    ("https-443-tcp", (443, 443, "tcp")),
    ("https-8443-tcp", (8443, 8443, "tcp")),
    ("kafka-broker-tcp", (9092, 9092, "tcp")),
    ("kibana-tcp", (5601, 5601, "tcp")),
    ("kubernetes-api-tcp", (6443, 6443, "tcp")),
    ("ldap-tcp", (389, 389, "tcp")),
    ("ldaps-tcp", (636, 636, "tcp")),
    ("memcached-tcp", (11211, 11211, "tcp")),
    ("mongodb-27017-tcp", (27017, 27017, "tcp")),
    ("mongodb-27018-tcp", (27018, 27018, "tcp")),
    ("mongodb-27019-tcp", (27019, 27019, "tcp")),
    ("mssql-analytics-tcp", (2383, 2383, "tcp")),
    ("mssql-broker-tcp", (4022, 4022, "tcp")),
    ("mssql-tcp", (1433, 1433, "tcp")),
    ("mssql-udp", (1434, 1434, "udp")),
    ("mysql-tcp", (3306, 3306, "tcp")),
    ("nfs-tcp", (2049, 2049, "tcp")),
    ("ntp-udp", (123, 123, "udp")),
    ("oracle-db-tcp", (1521, 1521, "tcp")),
    ("postgresql-tcp", (5432, 5432, "tcp")),
    ("rabbitmq-15672-tcp", (15672, 15672, "tcp")),
    ("rabbitmq-5672-tcp", (5672, 5672, "tcp")),
    ("rdp-tcp", (3389, 3389, "tcp")),
    ("rdp-udp", (3389, 3389, "udp")),
    ("redis-tcp", (6379, 6379, "tcp")),
    ("redshift-tcp", (5439, 5439, "tcp")),
    ("smtp-tcp", (25, 25, "tcp")),
    ("ssh-tcp", (22, 22, "tcp")),
    ("vault-tcp", (8200, 8200, "tcp")),
    ("web-jmx-tcp", (1099, 1099, "tcp")),
    ("winrm-http-tcp", (5985, 5985, "tcp")),
    ("winrm-https-tcp", (5986, 5986, "tcp")),
    ("zookeeper-2181-tcp", (2181, 2181, "tcp")),
];

// ---- rds ---------------------------------------------------------------------------------------
// terraform-aws-modules/terraform-aws-rds main.tf and variables.tf @029b06b3,
// modules/db_instance/main.tf @5697a0a1 (the module "db_instance" / "db_subnet_group" layout of
// 3.x to 6.x).

const DB_ON: When = When::True("create_db_instance", true); // variables.tf create_db_instance (default true)
const DB_SUBNET_GROUP: When = When::True("create_db_subnet_group", false); // variables.tf (default false)

static RDS: Known = Known {
    source: "terraform-aws-modules/rds/aws",
    repo: "terraform-aws-rds",
    majors: (3, 6),
    read: "main.tf, variables.tf @029b06b3; modules/db_instance/main.tf @5697a0a1",
    resources: &[
        // main.tf module "db_subnet_group" (create = var.create_db_subnet_group, subnet_ids =
        // var.subnet_ids): aws_db_subnet_group.this
        Synth {
            address: "module.db_subnet_group.aws_db_subnet_group.this",
            when: DB_SUBNET_GROUP,
            args: &[input("subnet_ids", D::EmptyList)],
        },
        // main.tf module "db_instance" -> modules/db_instance/main.tf aws_db_instance.this; each
        // attribute is var.<same name> of the root variables.tf, with its default there
        Synth {
            address: "module.db_instance.aws_db_instance.this",
            when: DB_ON,
            args: &[
                input("identifier", D::Null),
                input("engine", D::Null),
                input("instance_class", D::Null),
                input("port", D::Null),
                input("publicly_accessible", D::Bool(false)),
                input("storage_encrypted", D::Bool(true)),
                input("kms_key_id", D::Null),
                input("deletion_protection", D::Bool(false)),
                // default null: the provider's default (0 for aws_db_instance) applies
                input("backup_retention_period", D::Null),
                input("multi_az", D::Bool(false)),
                input("iam_database_authentication_enabled", D::Bool(false)),
                input("vpc_security_group_ids", D::Null),
                // main.tf local.db_subnet_group_name = try(module.db_subnet_group.db_subnet_group_id,
                // var.db_subnet_group_name)
                Arg {
                    attribute: "db_subnet_group_name",
                    from: Internal("module.db_subnet_group.aws_db_subnet_group.this"),
                    when: DB_SUBNET_GROUP,
                },
                input("db_subnet_group_name", D::Null),
            ],
        },
    ],
    expand: None,
    // outputs.tf: db_instance_* come from module.db_instance
    outputs: &[
        out("db_instance_address", OutValue::Resource("module.db_instance.aws_db_instance.this")),
        out("db_instance_arn", OutValue::Resource("module.db_instance.aws_db_instance.this")),
        out("db_instance_endpoint", OutValue::Resource("module.db_instance.aws_db_instance.this")),
        out("db_instance_id", OutValue::Resource("module.db_instance.aws_db_instance.this")),
        out("db_instance_identifier", OutValue::Resource("module.db_instance.aws_db_instance.this")),
        out("db_instance_resource_id", OutValue::Resource("module.db_instance.aws_db_instance.this")),
        out("db_subnet_group_id", OutValue::Resource("module.db_subnet_group.aws_db_subnet_group.this")),
    ],
    subs: &[],
    unread: &[(
        "replicate_source_db",
        "a replica's settings come from its source database, which the table does not follow",
    )],
};

// ---- s3-bucket ---------------------------------------------------------------------------------
// terraform-aws-modules/terraform-aws-s3-bucket variables.tf @0308df5c (3.x defaults) and
// main.tf @0170e4f1 (the per-setting resources of 3.x and later).

const BUCKET_ON: When = When::True("create_bucket", true); // variables.tf create_bucket (default true)
const BUCKET: Arg = arg("bucket", Internal("aws_s3_bucket.this"));

static S3_BUCKET: Known = Known {
    source: "terraform-aws-modules/s3-bucket/aws",
    repo: "terraform-aws-s3-bucket",
    majors: (3, 3),
    read: "variables.tf @0308df5c; main.tf @0170e4f1",
    resources: &[
        // main.tf aws_s3_bucket.this: bucket = var.bucket
        Synth { address: "aws_s3_bucket.this", when: BUCKET_ON, args: &[input("bucket", D::Null)] },
        // main.tf aws_s3_bucket_public_access_block.this (attach_public_policy, default true): the
        // four block_* inputs, each default false in 3.x variables.tf
        Synth {
            address: "aws_s3_bucket_public_access_block.this",
            when: When::All(&[BUCKET_ON, When::True("attach_public_policy", true)]),
            args: &[
                BUCKET,
                input("block_public_acls", D::Bool(false)),
                input("block_public_policy", D::Bool(false)),
                input("ignore_public_acls", D::Bool(false)),
                input("restrict_public_buckets", D::Bool(false)),
            ],
        },
        // main.tf aws_s3_bucket_server_side_encryption_configuration.this: only when
        // var.server_side_encryption_configuration (default {}) is set
        Synth {
            address: "aws_s3_bucket_server_side_encryption_configuration.this",
            when: When::All(&[BUCKET_ON, NonEmpty("server_side_encryption_configuration")]),
            args: &[BUCKET, arg("rule", Input("server_side_encryption_configuration", D::Null))],
        },
        // main.tf aws_s3_bucket_versioning.this: when var.versioning (default {}) is set; status
        // "Enabled" for enabled = true or status = true/"Enabled"
        Synth {
            address: "aws_s3_bucket_versioning.this",
            when: When::All(&[BUCKET_ON, NonEmpty("versioning")]),
            args: &[BUCKET, arg("versioning_configuration", Derived(s3_versioning))],
        },
        // main.tf aws_s3_bucket_logging.this: when var.logging (default {}) is set
        Synth {
            address: "aws_s3_bucket_logging.this",
            when: When::All(&[BUCKET_ON, NonEmpty("logging")]),
            args: &[BUCKET, arg("target_bucket", Derived(s3_log_bucket))],
        },
        // main.tf aws_s3_bucket_acl.this: when var.acl (default null) is set
        Synth {
            address: "aws_s3_bucket_acl.this",
            when: When::All(&[BUCKET_ON, Set("acl")]),
            args: &[BUCKET, input("acl", D::Null)],
        },
    ],
    expand: None,
    outputs: &[
        out("s3_bucket_id", OutValue::Resource("aws_s3_bucket.this")),
        out("s3_bucket_arn", OutValue::Resource("aws_s3_bucket.this")),
        out("s3_bucket_bucket_domain_name", OutValue::Resource("aws_s3_bucket.this")),
        out("s3_bucket_bucket_regional_domain_name", OutValue::Resource("aws_s3_bucket.this")),
    ],
    subs: &[],
    unread: &[
        ("grant", "ACL grants are not read (only the canned acl)"),
        ("policy", "the bucket policy is not read"),
    ],
};

// ---- alb ---------------------------------------------------------------------------------------
// terraform-aws-modules/terraform-aws-alb main.tf @00a2371c (8.x: target_groups, http_tcp_listeners
// and https_listeners as lists).

static ALB: Known = Known {
    source: "terraform-aws-modules/alb/aws",
    repo: "terraform-aws-alb",
    majors: (8, 8),
    read: "main.tf @00a2371c",
    resources: &[
        // main.tf aws_lb.this (create_lb, default true)
        Synth {
            address: "aws_lb.this",
            when: When::True("create_lb", true),
            args: &[
                input("name", D::Null),
                input("load_balancer_type", D::Str("application")),
                input("internal", D::Bool(false)),
                input("subnets", D::Null),
                input("security_groups", D::EmptyList),
                input("enable_deletion_protection", D::Bool(false)),
                input("drop_invalid_header_fields", D::Bool(false)),
                // dynamic "access_logs": enabled = try(access_logs.enabled, bucket != null)
                arg("access_logs", Derived(alb_access_logs)),
            ],
        },
    ],
    expand: Some(alb_listeners),
    outputs: &[
        out("lb_arn", OutValue::Resource("aws_lb.this")),
        out("lb_id", OutValue::Resource("aws_lb.this")),
        out("lb_dns_name", OutValue::Resource("aws_lb.this")),
        out("target_group_arns", OutValue::Resources("aws_lb_target_group.main")),
    ],
    subs: &[],
    unread: &[
        (
            "security_group_rules",
            "the load balancer's own security group (create_security_group) and its rules are not derived",
        ),
        ("listeners", "the 9.x listeners map is not in the table (the 8.x lists are)"),
        ("security_group_ingress_rules", "the 9.x security group rules are not in the table"),
    ],
};

// ---- ec2-instance ------------------------------------------------------------------------------
// terraform-aws-modules/terraform-aws-ec2-instance main.tf @007d61b9 (5.x: aws_instance.this, or
// aws_instance.ignore_ami with ignore_ami_changes).

const EC2_ON: When = When::All(&[When::True("create", true), When::False("create_spot_instance", false)]);
const EC2_ARGS: &[Arg] = &[
    input("instance_type", D::Null),
    input("subnet_id", D::Null),
    input("vpc_security_group_ids", D::Null),
    input("associate_public_ip_address", D::Null),
    input("iam_instance_profile", D::Null),
    // dynamic "metadata_options": http_tokens = try(metadata_options.value.http_tokens, "optional")
    arg("metadata_options", Derived(ec2_metadata_options)),
];

static EC2_INSTANCE: Known = Known {
    source: "terraform-aws-modules/ec2-instance/aws",
    repo: "terraform-aws-ec2-instance",
    majors: (5, 5),
    read: "main.tf @007d61b9",
    resources: &[
        Synth {
            address: "aws_instance.this",
            when: When::All(&[EC2_ON, When::False("ignore_ami_changes", false)]),
            args: EC2_ARGS,
        },
        Synth {
            address: "aws_instance.ignore_ami",
            when: When::All(&[EC2_ON, When::True("ignore_ami_changes", false)]),
            args: EC2_ARGS,
        },
    ],
    expand: None,
    outputs: &[
        Out {
            name: "id",
            when: When::True("ignore_ami_changes", false),
            value: OutValue::Resource("aws_instance.ignore_ami"),
        },
        out("id", OutValue::Resource("aws_instance.this")),
        Out {
            name: "arn",
            when: When::True("ignore_ami_changes", false),
            value: OutValue::Resource("aws_instance.ignore_ami"),
        },
        out("arn", OutValue::Resource("aws_instance.this")),
        Out {
            name: "private_ip",
            when: When::True("ignore_ami_changes", false),
            value: OutValue::Resource("aws_instance.ignore_ami"),
        },
        out("private_ip", OutValue::Resource("aws_instance.this")),
    ],
    subs: &[],
    unread: &[(
        "create_spot_instance",
        "spot instances (aws_spot_instance_request.this) are not in the table",
    )],
};

/// The registry modules the table knows, in README order.
pub static MODULES: &[&Known] = &[&VPC, &SECURITY_GROUP, &RDS, &S3_BUCKET, &ALB, &EC2_INSTANCE];

// ---- derived attributes ------------------------------------------------------------------------

/// s3-bucket main.tf aws_s3_bucket_versioning.this `status = try(var.versioning["enabled"] ?
/// "Enabled" : "Suspended", tobool(var.versioning["status"]) ? ..., title(lower(status)))`.
fn s3_versioning(call: &Call) -> Option<Attr> {
    let v = call.input("versioning")?;
    let status = match (v.get("enabled"), v.get("status")) {
        (Some(e), _) => match e.as_bool() {
            Some(true) => Value::Str("Enabled".into()),
            Some(false) => Value::Str("Suspended".into()),
            None => Value::Unknown(format!("versioning.enabled = {}", shown(e))),
        },
        (None, Some(s)) => match (s.as_bool(), s.as_str()) {
            (Some(true), _) => Value::Str("Enabled".into()),
            (Some(false), _) => Value::Str("Suspended".into()),
            (None, Some(text)) if text.eq_ignore_ascii_case("enabled") => Value::Str("Enabled".into()),
            (None, Some(_)) => Value::Str("Suspended".into()),
            _ => Value::Unknown(format!("versioning.status = {}", shown(s))),
        },
        // neither key: try() falls through to "Enabled"
        (None, None) => Value::Str("Enabled".into()),
    };
    let origin = v.origin.clone();
    let mut map = BTreeMap::new();
    map.insert("status".to_string(), Attr { value: status, origin: origin.clone() });
    Some(Attr { value: Value::List(vec![Attr { value: Value::Map(map), origin: origin.clone() }]), origin })
}

/// s3-bucket main.tf aws_s3_bucket_logging.this `target_bucket = var.logging.target_bucket`.
fn s3_log_bucket(call: &Call) -> Option<Attr> {
    call.input("logging")?.get("target_bucket").cloned()
}

/// alb main.tf `dynamic "access_logs"`: one block when var.access_logs (default {}) is set,
/// `enabled = try(access_logs.value.enabled, try(access_logs.value.bucket, null) != null)`.
fn alb_access_logs(call: &Call) -> Option<Attr> {
    let logs = call.input("access_logs")?;
    if logs.is_unknown() {
        return Some(logs.clone());
    }
    let map = logs.as_map()?;
    if map.is_empty() {
        return None;
    }
    let enabled = match map.get("enabled") {
        Some(e) => e.clone(),
        None => Attr { value: Value::Bool(map.contains_key("bucket")), origin: logs.origin.clone() },
    };
    let mut block = BTreeMap::new();
    block.insert("enabled".to_string(), enabled);
    Some(Attr {
        value: Value::List(vec![Attr { value: Value::Map(block), origin: logs.origin.clone() }]),
        origin: logs.origin.clone(),
    })
}

/// ec2-instance main.tf `dynamic "metadata_options"` (one block when var.metadata_options is not
/// empty; `http_tokens = try(metadata_options.value.http_tokens, "optional")`) over
/// variables.tf's default `{ http_endpoint = "enabled", http_put_response_hop_limit = 1,
/// http_tokens = "optional" }` (the 5.x variable text, found in the index by its description
/// without the repository's name).
fn ec2_metadata_options(call: &Call) -> Option<Attr> {
    let origin = call.origin_of("metadata_options");
    let tokens = match call.input("metadata_options") {
        None => Attr { value: Value::Str("optional".into()), origin: origin.clone() },
        Some(m) if m.is_unknown() => return Some(m.clone()),
        Some(m) => match m.as_map() {
            Some(map) if map.is_empty() => return None,
            Some(map) => map
                .get("http_tokens")
                .cloned()
                .unwrap_or(Attr { value: Value::Str("optional".into()), origin: origin.clone() }),
            None => return Some(m.clone()),
        },
    };
    let mut block = BTreeMap::new();
    block.insert("http_tokens".to_string(), tokens);
    Some(Attr { value: Value::List(vec![Attr { value: Value::Map(block), origin: origin.clone() }]), origin })
}

// ---- per-item resources ------------------------------------------------------------------------

/// One synthetic element (`base` + `address`).
fn element(base: &str, address: &str, origin: Origin, attributes: BTreeMap<String, Attr>) -> Element {
    let (ty, name) = type_and_name(address);
    Element {
        key: format!("{base}{address}"),
        kind: super::kind_of(ty),
        format: Format::Terraform,
        resource_type: ty.to_string(),
        name: name.to_string(),
        boundaries: Vec::new(),
        origin,
        attributes,
    }
}

/// `module.x.aws_lb.this[0]` -> (`aws_lb`, `this[0]`).
fn type_and_name(address: &str) -> (&str, &str) {
    let bare = address.split('[').next().unwrap_or(address);
    let parts: Vec<&str> = bare.rsplitn(3, '.').collect();
    let ty = parts.get(1).copied().unwrap_or("");
    let name_at = bare.len() - parts.first().map_or(0, |p| p.len());
    (ty, &address[name_at..])
}

fn reference(base: &str, address: &str, origin: &Origin) -> Attr {
    Attr { value: Value::Reference(format!("{base}{address}")), origin: origin.clone() }
}

fn text(value: &str, origin: &Origin) -> Attr {
    Attr { value: Value::Str(value.to_string()), origin: origin.clone() }
}

fn number(value: i64, origin: &Origin) -> Attr {
    Attr { value: Value::Number(value.to_string()), origin: origin.clone() }
}

/// How a value is shown in an unknown's text.
fn shown(a: &Attr) -> String {
    match &a.value {
        Value::Unknown(t) | Value::Str(t) | Value::Number(t) => t.clone(),
        Value::Reference(r) => r.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::List(_) | Value::Map(_) => "a collection".into(),
    }
}

/// The items of a list input: `Some(items)`, or `None` (with an unknown) when the list is not
/// a literal.
fn items<'c>(call: &'c Call, name: &str, unknowns: &mut Vec<Unknown>) -> Option<Vec<&'c Attr>> {
    let Some(list) = call.input(name) else { return Some(Vec::new()) };
    match &list.value {
        Value::List(items) => Some(items.iter().collect()),
        _ => {
            unknowns.push(Unknown {
                what: format!(
                    "{}{name} = {}: not a literal list, its resources are not derived",
                    call.prefix,
                    shown(list)
                ),
                origin: list.origin.clone(),
            });
            None
        }
    }
}

/// security-group main.tf: `aws_security_group_rule.ingress_rules` (one per name of
/// var.ingress_rules, with var.ingress_cidr_blocks and var.ingress_ipv6_cidr_blocks, ports and
/// protocol from rules.tf), `ingress_with_cidr_blocks` (each map's `cidr_blocks` as a
/// comma-separated string, else var.ingress_cidr_blocks; `rule` or from_port/to_port/protocol),
/// `ingress_with_ipv6_cidr_blocks` and `ingress_with_source_security_group_id`.
fn security_group_rules(call: &Call, base: &str, out: &mut Vec<Element>, unknowns: &mut Vec<Unknown>) {
    if holds(&When::True("create", true), call, unknowns) == Some(false) {
        return;
    }
    let group = if holds(&SG_PREFIXED, call, unknowns) != Some(false) {
        Some(reference(base, "aws_security_group.this_name_prefix", &call.origin))
    } else if holds(&SG_CREATE, call, unknowns) != Some(false) {
        Some(reference(base, "aws_security_group.this", &call.origin))
    } else {
        call.input("security_group_id").cloned()
    };
    let Some(group) = group else { return };
    let mut rule = |kind: &str, index: usize, origin: &Origin, attrs: Vec<(&str, Attr)>| {
        let mut map: BTreeMap<String, Attr> = attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        map.insert("security_group_id".into(), group.clone());
        map.insert("type".into(), text("ingress", origin));
        out.push(element(base, &format!("aws_security_group_rule.{kind}[{index}]"), origin.clone(), map));
    };
    let ports =
        |name: &str, origin: &Origin, unknowns: &mut Vec<Unknown>| -> Option<Vec<(&'static str, Attr)>> {
            match NAMED_RULES.iter().find(|(n, _)| *n == name) {
                Some((_, (from, to, protocol))) => Some(vec![
                    ("from_port", number(*from, origin)),
                    ("to_port", number(*to, origin)),
                    ("protocol", text(protocol, origin)),
                ]),
                None => {
                    unknowns.push(Unknown {
                        what: format!(
                            "{}: ingress rule {name:?} is not among the named rules the table knows",
                            call.prefix.trim_end_matches('.')
                        ),
                        origin: origin.clone(),
                    });
                    None
                }
            }
        };
    let cidrs = |name: &str| call.input(name).cloned();
    if let Some(names) = items(call, "ingress_rules", unknowns) {
        for (i, n) in names.into_iter().enumerate() {
            let Some(rule_name) = n.as_str() else {
                unknowns.push(Unknown {
                    what: format!(
                        "{}ingress_rules[{i}] = {}: not a literal rule name",
                        call.prefix,
                        shown(n)
                    ),
                    origin: n.origin.clone(),
                });
                continue;
            };
            let Some(mut attrs) = ports(rule_name, &n.origin, unknowns) else { continue };
            for input in ["ingress_cidr_blocks", "ingress_ipv6_cidr_blocks"] {
                if let Some(c) = cidrs(input) {
                    let key = if input == "ingress_cidr_blocks" { "cidr_blocks" } else { "ipv6_cidr_blocks" };
                    attrs.push((key, c));
                }
            }
            rule("ingress_rules", i, &n.origin, attrs);
        }
    }
    for (list, cidr_key, fallback) in [
        ("ingress_with_cidr_blocks", "cidr_blocks", "ingress_cidr_blocks"),
        ("ingress_with_ipv6_cidr_blocks", "ipv6_cidr_blocks", "ingress_ipv6_cidr_blocks"),
        ("ingress_with_source_security_group_id", "source_security_group_id", ""),
    ] {
        let Some(entries) = items(call, list, unknowns) else { continue };
        for (i, entry) in entries.into_iter().enumerate() {
            let Some(map) = entry.as_map() else {
                unknowns.push(Unknown {
                    what: format!("{}{list}[{i}] = {}: not a literal map", call.prefix, shown(entry)),
                    origin: entry.origin.clone(),
                });
                continue;
            };
            let mut attrs = match map.get("rule").and_then(Attr::as_str) {
                Some(name) => match ports(name, &entry.origin, unknowns) {
                    Some(a) => a,
                    None => continue,
                },
                None => Vec::new(),
            };
            for key in ["from_port", "to_port", "protocol"] {
                if let Some(v) = map.get(key) {
                    attrs.retain(|(k, _)| *k != key);
                    attrs.push((key, v.clone()));
                }
            }
            match map.get(cidr_key) {
                // `cidr_blocks = "10.0.0.0/16,0.0.0.0/0"`: split(",", ...)
                Some(Attr { value: Value::Str(s), origin }) if cidr_key != "source_security_group_id" => {
                    let list = s.split(',').map(|c| text(c.trim(), origin)).collect();
                    attrs.push((cidr_key, Attr { value: Value::List(list), origin: origin.clone() }));
                }
                Some(other) => attrs.push((cidr_key, other.clone())),
                None if !fallback.is_empty() => {
                    if let Some(c) = cidrs(fallback) {
                        attrs.push((cidr_key, c));
                    }
                }
                None => {}
            }
            rule(list, i, &entry.origin, attrs);
        }
    }
}

/// alb main.tf (8.x): `aws_lb_target_group.main[i]` per var.target_groups item (port =
/// backend_port, protocol = upper(backend_protocol)) and `aws_lb_target_group_attachment.this`
/// per item of its `targets` map (target_id); `aws_lb_listener.frontend_http_tcp[i]` per
/// var.http_tcp_listeners item and `aws_lb_listener.frontend_https[i]` per var.https_listeners
/// item (protocol default "HTTPS", certificate_arn), each forwarding to
/// `aws_lb_target_group.main[target_group_index]` (default: the listener's index) unless
/// `action_type` is "redirect" or "fixed-response".
fn alb_listeners(call: &Call, base: &str, out: &mut Vec<Element>, unknowns: &mut Vec<Unknown>) {
    if holds(&When::True("create_lb", true), call, unknowns) == Some(false) {
        return;
    }
    let lb = reference(base, "aws_lb.this", &call.origin);
    if let Some(groups) = items(call, "target_groups", unknowns) {
        for (i, g) in groups.into_iter().enumerate() {
            let mut attrs = BTreeMap::new();
            if let Some(port) = g.get("backend_port") {
                attrs.insert("port".to_string(), port.clone());
            }
            if let Some(p) = g.get("backend_protocol") {
                let value = match &p.value {
                    Value::Str(s) => Value::Str(s.to_ascii_uppercase()),
                    other => other.clone(),
                };
                attrs.insert("protocol".to_string(), Attr { value, origin: p.origin.clone() });
            }
            if let Some(vpc) = call.input("vpc_id") {
                attrs.insert("vpc_id".to_string(), vpc.clone());
            }
            let tg = format!("aws_lb_target_group.main[{i}]");
            out.push(element(base, &tg, g.origin.clone(), attrs));
            let targets = g.get("targets").and_then(Attr::as_map).cloned().unwrap_or_default();
            for (key, target) in targets {
                let mut attrs = BTreeMap::new();
                attrs.insert("target_group_arn".to_string(), reference(base, &tg, &target.origin));
                if let Some(id) = target.get("target_id") {
                    attrs.insert("target_id".to_string(), id.clone());
                }
                out.push(element(
                    base,
                    &format!("aws_lb_target_group_attachment.this[\"{i}.{key}\"]"),
                    target.origin.clone(),
                    attrs,
                ));
            }
        }
    }
    for (list, name, default_protocol) in [
        ("http_tcp_listeners", "frontend_http_tcp", None),
        ("https_listeners", "frontend_https", Some("HTTPS")),
    ] {
        let Some(listeners) = items(call, list, unknowns) else { continue };
        for (i, l) in listeners.into_iter().enumerate() {
            let mut attrs = BTreeMap::new();
            attrs.insert("load_balancer_arn".to_string(), lb.clone());
            if let Some(port) = l.get("port") {
                attrs.insert("port".to_string(), port.clone());
            }
            match (l.get("protocol"), default_protocol) {
                (Some(p), _) => {
                    attrs.insert("protocol".to_string(), p.clone());
                }
                (None, Some(p)) => {
                    attrs.insert("protocol".to_string(), text(p, &l.origin));
                }
                (None, None) => {}
            }
            if let Some(cert) = l.get("certificate_arn") {
                attrs.insert("certificate_arn".to_string(), cert.clone());
            }
            let mut action = BTreeMap::new();
            let action_type = l.get("action_type").and_then(Attr::as_str).unwrap_or("forward");
            action.insert("type".to_string(), text(action_type, &l.origin));
            if action_type == "forward" {
                let index = l.get("target_group_index").and_then(Attr::as_u64).unwrap_or(i as u64);
                action.insert(
                    "target_group_arn".to_string(),
                    reference(base, &format!("aws_lb_target_group.main[{index}]"), &l.origin),
                );
            }
            if let Some(redirect) = l.get("redirect") {
                action.insert("redirect".to_string(), redirect.clone());
            }
            attrs.insert(
                "default_action".to_string(),
                Attr {
                    value: Value::List(vec![Attr { value: Value::Map(action), origin: l.origin.clone() }]),
                    origin: l.origin.clone(),
                },
            );
            out.push(element(base, &format!("aws_lb_listener.{name}[{i}]"), l.origin.clone(), attrs));
        }
    }
}

// ---- conditions, sources, versions -------------------------------------------------------------

/// Whether `when` holds for the call: `None` when an input it reads is not statically known
/// (the caller then assumes it holds and says so).
fn holds(when: &When, call: &Call, unknowns: &mut Vec<Unknown>) -> Option<bool> {
    let flag = |name: &str, default: bool, unknowns: &mut Vec<Unknown>| -> Option<bool> {
        match call.input(name) {
            None => Some(default),
            Some(a) => match a.as_bool() {
                Some(b) => Some(b),
                None => {
                    unknowns.push(Unknown {
                        what: format!(
                            "{}{name} = {}: not a literal, the resources it creates are assumed",
                            call.prefix,
                            shown(a)
                        ),
                        origin: a.origin.clone(),
                    });
                    None
                }
            },
        }
    };
    match when {
        When::Always => Some(true),
        When::True(name, default) => flag(name, *default, unknowns),
        When::False(name, default) => flag(name, *default, unknowns).map(|b| !b),
        When::NonEmpty(name) => match call.input(name).map(|a| &a.value) {
            None => Some(false),
            Some(Value::List(items)) => Some(!items.is_empty()),
            Some(Value::Map(map)) => Some(!map.is_empty()),
            Some(_) => {
                let a = &call.inputs[*name];
                unknowns.push(Unknown {
                    what: format!(
                        "{}{name} = {}: not a literal list, its resources are assumed",
                        call.prefix,
                        shown(a)
                    ),
                    origin: a.origin.clone(),
                });
                None
            }
        },
        When::Set(name) => Some(call.input(name).is_some()),
        When::All(all) => {
            let mut result = Some(true);
            for w in *all {
                match holds(w, call, unknowns) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        When::Any(any) => {
            let mut result = Some(false);
            for w in *any {
                match holds(w, call, unknowns) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
    }
}

/// A module source the table may know: (registry address or repository, submodule, the
/// version a git `ref` names).
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    /// `terraform-aws-rds` (the repository's name).
    pub repo: String,
    /// `modules/ssh`, without slashes around.
    pub sub: Option<String>,
    /// `v6.1.0` from `?ref=v6.1.0`.
    pub git_ref: Option<String>,
}

/// Parses the three source forms of a `terraform-aws-modules` module; `None` for any other
/// source.
pub fn parse_source(source: &str) -> Option<Source> {
    let s = source.trim();
    let (s, git_ref) = match s.split_once('?') {
        Some((path, query)) => {
            let r = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("ref="))
                .map(|r| r.trim_start_matches("tags/").to_string());
            (path, r)
        }
        None => (s, None),
    };
    // Registry: [registry.terraform.io/]terraform-aws-modules/NAME/aws[//SUB]
    let registry = s.strip_prefix("registry.terraform.io/").unwrap_or(s);
    if let Some(rest) = registry.strip_prefix("terraform-aws-modules/") {
        let (path, sub) = split_sub(rest);
        let mut parts = path.split('/');
        let (Some(name), Some("aws"), None) = (parts.next(), parts.next(), parts.next()) else { return None };
        if name.is_empty() {
            return None;
        }
        return Some(Source { repo: format!("terraform-aws-{name}"), sub, git_ref });
    }
    // GitHub: github.com/terraform-aws-modules/REPO[.git][//SUB], git::https://github.com/...,
    // git::ssh://git@github.com/..., git@github.com:terraform-aws-modules/REPO.git
    let s = s.strip_prefix("git::").unwrap_or(s);
    let s = ["https://", "http://", "ssh://git@", "ssh://", "git@"]
        .iter()
        .fold(s, |s, p| s.strip_prefix(p).unwrap_or(s));
    let rest = s
        .strip_prefix("github.com/terraform-aws-modules/")
        .or_else(|| s.strip_prefix("github.com:terraform-aws-modules/"))?;
    let (path, sub) = split_sub(rest);
    let repo = path.trim_end_matches('/').trim_end_matches(".git");
    if !repo.starts_with("terraform-aws-") || repo.contains('/') {
        return None;
    }
    Some(Source { repo: repo.to_string(), sub, git_ref })
}

fn split_sub(s: &str) -> (&str, Option<String>) {
    match s.split_once("//") {
        Some((path, sub)) => {
            let sub = sub.trim_matches('/');
            (path, (!sub.is_empty()).then(|| sub.to_string()))
        }
        None => (s, None),
    }
}

/// The range of majors a version constraint (`~> 5.0`, `>= 3.0, < 6.0`, `5.1.2`, `v6.1.0`)
/// allows: (lowest, highest; `None` = unbounded). `None` when it does not parse.
pub fn majors(constraint: &str) -> Option<(u64, Option<u64>)> {
    let mut lo = 0u64;
    let mut hi: Option<u64> = None;
    let mut any = false;
    for clause in constraint.split(',') {
        let clause = clause.trim();
        if clause.is_empty() {
            continue;
        }
        let (op, v) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|v| (*op, v.trim())))
            .unwrap_or(("=", clause));
        let v = v.trim_start_matches('v');
        let parts: Vec<u64> = v.split(['.', '-', '+']).take(3).map_while(|p| p.parse().ok()).collect();
        let &major = parts.first()?;
        let rest_zero = parts[1..].iter().all(|p| *p == 0);
        any = true;
        match op {
            "=" => {
                lo = lo.max(major);
                hi = Some(hi.map_or(major, |h| h.min(major)));
            }
            // `~> 5` allows any 5 or later; `~> 5.1` and `~> 5.1.2` stay below 6.
            "~>" => {
                lo = lo.max(major);
                if parts.len() > 1 {
                    hi = Some(hi.map_or(major, |h| h.min(major)));
                }
            }
            ">=" | ">" => lo = lo.max(major),
            "<" => {
                let top = if rest_zero { major.saturating_sub(1) } else { major };
                hi = Some(hi.map_or(top, |h| h.min(top)));
            }
            "<=" => hi = Some(hi.map_or(major, |h| h.min(major))),
            _ => {}
        }
    }
    any.then_some((lo, hi))
}

/// What the call's version says against the majors the table read: `None` when inside, else
/// the assumption to state.
fn version_note(known: &Known, constraint: Option<&Attr>, git_ref: Option<&str>) -> Option<String> {
    let (lo, hi) = known.majors;
    let read = if lo == hi { format!("{lo}.x") } else { format!("{lo}.x to {hi}.x") };
    let (text, range) = match (constraint, git_ref) {
        (Some(c), _) => match c.as_str() {
            Some(s) => (format!("version {s:?}"), majors(s)),
            None => (format!("version {}", shown(c)), None),
        },
        (None, Some(r)) => (format!("ref {r:?}"), majors(r)),
        (None, None) => ("no version constraint".to_string(), None),
    };
    match range {
        Some((a, Some(b))) if a >= lo && b <= hi => None,
        _ => Some(format!(
            "{text}: the table was read from {} {read}; its mapping is assumed for this call",
            known.source
        )),
    }
}

/// The table entry for a source, with the submodule the table knows (`Err` with the reason
/// when the module or the submodule is not in the table; `None` when the source is not a
/// `terraform-aws-modules` one).
pub fn lookup(source: &str) -> Option<Result<Found, String>> {
    let parsed = parse_source(source)?;
    let Some(known) = MODULES.iter().copied().find(|k| k.repo == parsed.repo) else {
        return Some(Err(format!("{} is not in the registry module table", parsed.repo)));
    };
    let sub = match &parsed.sub {
        None => None,
        Some(path) => match known.subs.iter().find(|s| s.path == path) {
            Some(s) => Some(s),
            None => {
                return Some(Err(format!(
                    "submodule {path} of {} is not in the registry module table",
                    known.source
                )));
            }
        },
    };
    Some(Ok((known, sub, parsed)))
}

/// The synthetic resources of a call of a module the table knows.
pub fn expand(
    known: &Known,
    sub: Option<&Sub>,
    source: &Source,
    version: Option<&Attr>,
    call: &mut Call,
    out: &mut Vec<Element>,
    unknowns: &mut Vec<Unknown>,
) {
    let name = call.prefix.trim_end_matches('.').to_string();
    if let Some(note) = version_note(known, version, source.git_ref.as_deref()) {
        let origin = version.map_or_else(|| call.origin.clone(), |v| v.origin.clone());
        unknowns.push(Unknown { what: format!("{name}: {note}"), origin });
    }
    for (input, why) in known.unread {
        if let Some(a) = call.input(input) {
            unknowns
                .push(Unknown { what: format!("{}{input}: {why}", call.prefix), origin: a.origin.clone() });
        }
    }
    let inner = sub.map_or("", |s| s.inner);
    if let Some(sub) = sub {
        for (input, values) in sub.auto {
            let origin = call.origin.clone();
            let mut list: Vec<Attr> = values.iter().map(|v| text(v, &origin)).collect();
            match call.inputs.get(*input).map(|a| &a.value) {
                Some(Value::List(given)) => list.extend(given.iter().cloned()),
                Some(_) => continue,
                None => {}
            }
            call.inputs.insert(input.to_string(), Attr { value: Value::List(list), origin });
        }
    }
    let base = format!("{}{inner}", call.prefix);
    for synth in known.resources {
        if holds(&synth.when, call, unknowns) == Some(false) {
            continue;
        }
        let mut attributes = BTreeMap::new();
        for a in synth.args {
            if attributes.contains_key(a.attribute) || holds(&a.when, call, unknowns) == Some(false) {
                continue;
            }
            if let Some(value) = value_of(&a.from, call, &base) {
                attributes.insert(a.attribute.to_string(), value);
            } else if matches!(a.from, Via::Input(..)) {
                // An input left at a null default: the attribute is omitted, and no later row
                // for it applies.
                attributes.insert(
                    a.attribute.to_string(),
                    Attr { value: Value::Null, origin: call.origin.clone() },
                );
            }
        }
        attributes.retain(|_, v| v.value != Value::Null);
        out.push(element(&base, synth.address, call.origin.clone(), attributes));
    }
    if let Some(expand) = known.expand {
        expand(call, &base, out, unknowns);
    }
}

fn value_of(from: &Via, call: &Call, base: &str) -> Option<Attr> {
    let default = |d: &Fallback, origin: Origin| -> Option<Attr> {
        let value = match d {
            D::Bool(b) => Value::Bool(*b),
            D::Str(s) => Value::Str(s.to_string()),
            D::Num(n) => Value::Number(n.to_string()),
            D::Null => return None,
            D::EmptyList => Value::List(Vec::new()),
        };
        Some(Attr { value, origin })
    };
    match from {
        Via::Input(name, d) => call.input(name).cloned().or_else(|| default(d, call.origin.clone())),
        Via::Internal(address) => Some(reference(base, address, &call.origin)),
        Via::Internals(address) => Some(Attr {
            value: Value::List(vec![reference(base, address, &call.origin)]),
            origin: call.origin.clone(),
        }),
        Via::Fixed(d) => default(d, call.origin.clone()),
        Via::Derived(f) => f(call),
    }
}

/// The inputs the rows of output `name` read (of every module of the table: a superset, so the
/// caller evaluates only these arguments to resolve a `module.M.OUT`).
pub fn output_inputs(name: &str) -> Vec<&'static str> {
    fn walk(when: &When, out: &mut Vec<&'static str>) {
        match when {
            When::Always => {}
            When::True(n, _) | When::False(n, _) | When::NonEmpty(n) | When::Set(n) => out.push(n),
            When::All(ws) | When::Any(ws) => ws.iter().for_each(|w| walk(w, out)),
        }
    }
    let mut out = Vec::new();
    for row in MODULES.iter().flat_map(|k| k.outputs).filter(|o| o.name == name) {
        walk(&row.when, &mut out);
        if let OutValue::Input(input) = row.value {
            out.push(input);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The value of `module.NAME.OUTPUT` for a call of a module the table knows: `None` when the
/// table does not say where the output comes from.
pub fn output(known: &Known, sub: Option<&Sub>, call: &Call, name: &str, origin: Origin) -> Option<Attr> {
    let mut ignored = Vec::new();
    let row =
        known.outputs.iter().find(|o| o.name == name && holds(&o.when, call, &mut ignored) != Some(false))?;
    let base = format!("{}{}", call.prefix, sub.map_or("", |s| s.inner));
    let value = match row.value {
        OutValue::Resource(address) => Value::Reference(format!("{base}{address}")),
        OutValue::Resources(address) => Value::List(vec![Attr {
            value: Value::Reference(format!("{base}{address}")),
            origin: origin.clone(),
        }]),
        OutValue::Input(input) => {
            return call.input(input).cloned().map(|mut a| {
                a.origin = origin;
                a
            });
        }
    };
    Some(Attr { value, origin })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_in_three_forms() {
        let rds = Some(Source { repo: "terraform-aws-rds".into(), sub: None, git_ref: None });
        assert_eq!(parse_source("terraform-aws-modules/rds/aws"), rds);
        assert_eq!(parse_source("registry.terraform.io/terraform-aws-modules/rds/aws"), rds);
        assert_eq!(parse_source("github.com/terraform-aws-modules/terraform-aws-rds"), rds);
        assert_eq!(
            parse_source("git::https://github.com/terraform-aws-modules/terraform-aws-rds.git?ref=v6.1.0"),
            Some(Source { repo: "terraform-aws-rds".into(), sub: None, git_ref: Some("v6.1.0".into()) })
        );
        assert_eq!(
            parse_source(
                "git@github.com:terraform-aws-modules/terraform-aws-security-group.git//modules/ssh?ref=v5.1.0"
            ),
            Some(Source {
                repo: "terraform-aws-security-group".into(),
                sub: Some("modules/ssh".into()),
                git_ref: Some("v5.1.0".into())
            })
        );
        assert_eq!(
            parse_source("terraform-aws-modules/security-group/aws//modules/ssh").and_then(|s| s.sub),
            Some("modules/ssh".into())
        );
        for other in [
            "./modules/db",
            "hashicorp/consul/aws",
            "github.com/acme/terraform-aws-rds",
            "terraform-aws-modules/rds/google",
            "",
        ] {
            assert_eq!(parse_source(other), None, "{other}");
        }
    }

    #[test]
    fn version_constraints_to_majors() {
        assert_eq!(majors("~> 5.0"), Some((5, Some(5))));
        assert_eq!(majors("~> 5"), Some((5, None)));
        assert_eq!(majors(">= 3.0, < 6.0"), Some((3, Some(5))));
        assert_eq!(majors(">= 3.0, < 6.1"), Some((3, Some(6))));
        assert_eq!(majors("5.1.2"), Some((5, Some(5))));
        assert_eq!(majors("v6.1.0"), Some((6, Some(6))));
        assert_eq!(majors("= 4.2.0"), Some((4, Some(4))));
        assert_eq!(majors("latest"), None);
        let vpc = &VPC;
        let attr = |s: &str| Attr { value: Value::Str(s.into()), origin: Origin::default() };
        assert_eq!(version_note(vpc, Some(&attr("~> 5.0")), None), None);
        assert!(version_note(vpc, Some(&attr("~> 6.0")), None).unwrap().contains("assumed"));
        assert!(version_note(vpc, None, None).unwrap().starts_with("no version constraint"));
        assert_eq!(version_note(vpc, None, Some("v4.0.2")), None);
    }

    #[test]
    fn addresses_split_into_type_and_name() {
        assert_eq!(type_and_name("aws_vpc.this"), ("aws_vpc", "this"));
        assert_eq!(type_and_name("module.db_instance.aws_db_instance.this"), ("aws_db_instance", "this"));
        assert_eq!(
            type_and_name("aws_lb_listener.frontend_https[0]"),
            ("aws_lb_listener", "frontend_https[0]")
        );
        assert_eq!(
            type_and_name("aws_lb_target_group_attachment.this[\"0.a.b\"]"),
            ("aws_lb_target_group_attachment", "this[\"0.a.b\"]")
        );
    }

    use crate::infra::model::{BoundaryKind, Exposure, INTERNET, InfraModel, Outcome};

    fn model(text: &str) -> InfraModel {
        super::super::tests::model_of(&[("main.tf", text)])
    }

    /// `(outcome, detail, line)` of the proposal of `rule` on `element`.
    fn proposal(m: &InfraModel, rule: &str, element: &str) -> Option<(Outcome, String, u32)> {
        m.proposals
            .iter()
            .find(|p| p.rule == rule && p.element == element)
            .map(|p| (p.outcome, p.detail.clone(), p.origin.line))
    }

    fn unknowns(m: &InfraModel) -> Vec<&str> {
        m.unknowns.iter().map(|u| u.what.as_str()).collect()
    }

    const DB: &str = "module.db.module.db_instance.aws_db_instance.this";

    #[test]
    fn rds_publicly_accessible_is_flagged_at_the_argument() {
        let m = model(
            r#"module "db" {
  source              = "terraform-aws-modules/rds/aws"
  version             = "~> 6.0"
  identifier          = "orders"
  publicly_accessible = true
}"#,
        );
        assert_eq!(m.element(DB).unwrap().kind, crate::infra::model::ElementKind::DataStore);
        let (outcome, detail, line) = proposal(&m, "TF-DB-PUBLICLY-ACCESSIBLE", DB).unwrap();
        assert_eq!((outcome, detail.as_str(), line), (Outcome::Exposure, "publicly_accessible = true", 5));
        // The module's defaults: encrypted (mitigated at the module block), no deletion
        // protection, backups left to the provider (0 for aws_db_instance).
        assert_eq!(proposal(&m, "TF-DB-ENCRYPTION", DB).map(|p| (p.0, p.2)), Some((Outcome::Mitigation, 1)));
        assert_eq!(proposal(&m, "TF-DB-DELETION-PROTECTION", DB).map(|p| p.0), Some(Outcome::Exposure));
        assert_eq!(proposal(&m, "TF-DB-BACKUP", DB).map(|p| p.0), Some(Outcome::Exposure));
        assert!(unknowns(&m).is_empty(), "{:?}", unknowns(&m));
    }

    #[test]
    fn rds_defaults_are_not_flagged_and_overrides_are() {
        let m = model(r#"module "db" { source = "terraform-aws-modules/rds/aws" }"#);
        assert_eq!(proposal(&m, "TF-DB-PUBLICLY-ACCESSIBLE", DB).map(|p| p.0), Some(Outcome::Mitigation));
        assert_eq!(proposal(&m, "TF-DB-ENCRYPTION", DB).map(|p| p.0), Some(Outcome::Mitigation));
        // No version constraint: the mapping is applied and the assumption said.
        assert!(
            unknowns(&m).iter().any(|u| u.starts_with("module.db: no version constraint")),
            "{:?}",
            unknowns(&m)
        );
        let m = model(
            r#"module "db" {
  source                  = "terraform-aws-modules/rds/aws"
  version                 = "6.1.0"
  storage_encrypted       = false
  deletion_protection     = true
  backup_retention_period = 14
}"#,
        );
        assert_eq!(proposal(&m, "TF-DB-ENCRYPTION", DB).map(|p| (p.0, p.2)), Some((Outcome::Exposure, 4)));
        assert_eq!(proposal(&m, "TF-DB-DELETION-PROTECTION", DB).map(|p| p.0), Some(Outcome::Mitigation));
        assert_eq!(proposal(&m, "TF-DB-BACKUP", DB).map(|p| p.0), Some(Outcome::Mitigation));
        // An argument that is not a literal: the rule skips, the unknown says why.
        let m = model(
            r#"variable "public" {}
module "db" {
  source              = "terraform-aws-modules/rds/aws"
  version             = "~> 6.0"
  publicly_accessible = var.public
}"#,
        );
        assert_eq!(proposal(&m, "TF-DB-PUBLICLY-ACCESSIBLE", DB), None);
        assert!(
            unknowns(&m).contains(
                &"module.db.module.db_instance.aws_db_instance.this.publicly_accessible = var.public"
            )
        );
    }

    #[test]
    fn an_unknown_module_is_still_one_unknown() {
        for source in [
            "terraform-aws-modules/eks/aws",
            "terraform-aws-modules/security-group/aws//modules/nomad",
            "hashicorp/consul/aws",
        ] {
            let m = model(&format!("module \"x\" {{\n  source = \"{source}\"\n}}\n"));
            assert!(m.elements.is_empty(), "{source}");
            assert_eq!(m.unknowns.len(), 1, "{source}: {:?}", unknowns(&m));
            assert!(m.unknowns[0].what.starts_with("module.x: its source is not a local directory"));
            if source.starts_with("terraform-aws-modules/") {
                assert!(m.unknowns[0].what.contains("not in the registry module table"), "{:?}", m.unknowns);
            }
        }
    }

    const VPC_CALL: &str = r#"module "vpc" {
  source           = "github.com/terraform-aws-modules/terraform-aws-vpc?ref=v5.8.1"
  cidr             = "10.0.0.0/16"
  public_subnets   = ["10.0.1.0/24"]
  private_subnets  = ["10.0.2.0/24"]
  database_subnets = ["10.0.3.0/24"]
}
"#;

    #[test]
    fn vpc_subnets_are_public_by_the_internet_gateway_and_outputs_resolve() {
        let m = model(&format!(
            r#"{VPC_CALL}
resource "aws_instance" "web" {{
  subnet_id = module.vpc.public_subnets[0]
}}
resource "aws_db_instance" "db" {{
  db_subnet_group_name = module.vpc.database_subnet_group
}}
resource "aws_security_group" "web" {{
  vpc_id = module.vpc.vpc_id
  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [module.vpc.vpc_cidr_block]
  }}
}}"#
        ));
        let kind = |k: &str| m.boundary(k).map(|b| b.kind);
        assert_eq!(kind("module.vpc.aws_vpc.this"), Some(BoundaryKind::Vpc));
        assert_eq!(kind("module.vpc.aws_subnet.public"), Some(BoundaryKind::Subnet(Exposure::Public)));
        assert_eq!(kind("module.vpc.aws_subnet.private"), Some(BoundaryKind::Subnet(Exposure::Private)));
        assert_eq!(kind("module.vpc.aws_subnet.database"), Some(BoundaryKind::Subnet(Exposure::Private)));
        assert_eq!(
            m.boundary("module.vpc.aws_subnet.public").unwrap().parent.as_deref(),
            Some("module.vpc.aws_vpc.this")
        );
        assert_eq!(
            m.element("aws_instance.web").unwrap().boundaries,
            ["module.vpc.aws_subnet.public", "module.vpc.aws_vpc.this"]
        );
        assert_eq!(
            proposal(&m, "TF-DB-PUBLIC-SUBNET", "aws_db_instance.db").map(|p| p.0),
            Some(Outcome::Mitigation)
        );
        // vpc_cidr_block is the cidr input: a literal, not the Internet.
        assert!(m.flows.is_empty(), "{:?}", m.flows);
        assert!(unknowns(&m).is_empty(), "{:?}", unknowns(&m));
        // Database subnets routed to the internet gateway are public.
        let m = model(&format!(
            "{}  create_database_subnet_route_table     = true\n  create_database_internet_gateway_route = true\n}}\n",
            VPC_CALL.trim_end().trim_end_matches('}')
        ));
        assert_eq!(kind2(&m, "module.vpc.aws_subnet.database"), Some(BoundaryKind::Subnet(Exposure::Public)));
    }

    fn kind2(m: &InfraModel, key: &str) -> Option<BoundaryKind> {
        m.boundary(key).map(|b| b.kind)
    }

    #[test]
    fn vpc_subnet_lists_that_are_not_literals_are_assumed_and_said() {
        let m = model(
            r#"locals { azs = ["a", "b"] }
module "vpc" {
  source         = "terraform-aws-modules/vpc/aws"
  version        = "~> 5.0"
  public_subnets = [for k, v in local.azs : cidrsubnet("10.0.0.0/16", 8, k)]
}"#,
        );
        assert_eq!(kind2(&m, "module.vpc.aws_subnet.public"), Some(BoundaryKind::Subnet(Exposure::Public)));
        assert!(
            unknowns(&m)
                .iter()
                .any(|u| u.starts_with("module.vpc.public_subnets = [for") && u.ends_with("assumed")),
            "{:?}",
            unknowns(&m)
        );
    }

    #[test]
    fn security_group_named_rules_from_the_internet() {
        let m = model(
            r#"module "ssh" {
  source              = "terraform-aws-modules/security-group/aws"
  version             = "~> 5.0"
  ingress_cidr_blocks = ["0.0.0.0/0"]
  ingress_rules       = ["ssh-tcp", "https-443-tcp", "no-such-rule"]
}
module "rdp" {
  source  = "terraform-aws-modules/security-group/aws"
  version = "~> 5.0"
  ingress_with_cidr_blocks = [
    { rule = "rdp-tcp", cidr_blocks = "10.0.0.0/8,0.0.0.0/0" },
    { from_port = 5432, to_port = 5432, protocol = "tcp", cidr_blocks = "10.0.0.0/16" },
  ]
}
module "sub" {
  source              = "terraform-aws-modules/security-group/aws//modules/ssh"
  version             = "~> 5.0"
  ingress_cidr_blocks = ["10.0.0.0/8"]
}
resource "aws_instance" "a" { vpc_security_group_ids = [module.ssh.security_group_id] }
resource "aws_instance" "b" { vpc_security_group_ids = [module.rdp.security_group_id] }
resource "aws_instance" "c" { vpc_security_group_ids = [module.sub.security_group_id] }"#,
        );
        let from_internet: Vec<String> = m
            .flows
            .iter()
            .filter(|f| f.from == INTERNET)
            .map(|f| format!("{} {} :{}", f.to, f.mechanism.display(), f.origin.line))
            .collect();
        assert_eq!(
            from_internet,
            ["aws_instance.a tcp/22 :5", "aws_instance.a tcp/443 :5", "aws_instance.b tcp/3389 :11"]
        );
        assert_eq!(
            proposal(&m, "TF-INGRESS-ADMIN-PORT", "aws_instance.a").map(|p| p.0),
            Some(Outcome::Exposure)
        );
        assert_eq!(
            proposal(&m, "TF-INGRESS-ADMIN-PORT", "aws_instance.b").map(|p| p.0),
            Some(Outcome::Exposure)
        );
        assert_eq!(proposal(&m, "TF-INGRESS-ADMIN-PORT", "aws_instance.c"), None);
        assert_eq!(
            m.element("aws_instance.c").unwrap().boundaries,
            ["module.sub.module.sg.aws_security_group.this_name_prefix"]
        );
        assert!(m.element("module.sub.module.sg.aws_security_group_rule.ingress_rules[0]").is_some());
        assert!(
            unknowns(&m).iter().any(|u| u.contains("\"no-such-rule\" is not among the named rules")),
            "{:?}",
            unknowns(&m)
        );
    }

    #[test]
    fn s3_bucket_defaults_and_inputs() {
        let m = model(
            r#"module "plain" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "~> 3.0"
}
module "locked" {
  source                  = "terraform-aws-modules/s3-bucket/aws"
  version                 = "~> 3.0"
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
  versioning              = { status = "Enabled" }
  server_side_encryption_configuration = {
    rule = { apply_server_side_encryption_by_default = { sse_algorithm = "AES256" } }
  }
}"#,
        );
        let plain = "module.plain.aws_s3_bucket.this";
        let locked = "module.locked.aws_s3_bucket.this";
        for (rule, plain_outcome, locked_outcome) in [
            ("TF-S3-PUBLIC-ACCESS-BLOCK", Outcome::Exposure, Outcome::Mitigation),
            ("TF-S3-ENCRYPTION", Outcome::Exposure, Outcome::Mitigation),
            ("TF-S3-VERSIONING", Outcome::Exposure, Outcome::Mitigation),
        ] {
            assert_eq!(proposal(&m, rule, plain).map(|p| p.0), Some(plain_outcome), "{rule}");
            assert_eq!(proposal(&m, rule, locked).map(|p| p.0), Some(locked_outcome), "{rule}");
        }
        // The default that exposes is named, at the module block.
        let (_, detail, line) = proposal(&m, "TF-S3-PUBLIC-ACCESS-BLOCK", plain).unwrap();
        assert_eq!(
            (detail.as_str(), line),
            ("module.plain.aws_s3_bucket_public_access_block.this: block_public_acls is not true", 1)
        );
    }

    #[test]
    fn alb_listeners_with_and_without_a_certificate() {
        let call = |listeners: &str| {
            model(&format!(
                r#"module "app" {{
  source  = "terraform-aws-modules/ec2-instance/aws"
  version = "~> 5.0"
}}
module "alb" {{
  source  = "terraform-aws-modules/alb/aws"
  version = "~> 8.0"
  target_groups = [
    {{ backend_protocol = "HTTP", backend_port = 8080, targets = {{ a = {{ target_id = module.app.id }} }} }},
  ]
  {listeners}
}}"#
            ))
        };
        let lb = "module.alb.aws_lb.this";
        let m = call(r#"https_listeners = [{ port = 443, certificate_arn = "arn:aws:acm:x" }]"#);
        assert_eq!(proposal(&m, "TF-LB-LISTENER-TLS", lb).map(|p| p.0), Some(Outcome::Mitigation));
        let flows: Vec<String> =
            m.flows.iter().map(|f| format!("{} -> {} {}", f.from, f.to, f.mechanism.display())).collect();
        assert_eq!(
            flows,
            [
                "internet -> module.alb.aws_lb.this https/443",
                "module.alb.aws_lb.this -> module.app.aws_instance.this http/8080"
            ]
        );
        let m = call(r#"http_tcp_listeners = [{ port = 80, protocol = "HTTP" }]"#);
        let (outcome, detail, _) = proposal(&m, "TF-LB-LISTENER-TLS", lb).unwrap();
        assert_eq!(
            (outcome, detail.as_str()),
            (Outcome::Exposure, "listener module.alb.aws_lb_listener.frontend_http_tcp[0] protocol HTTP")
        );
        // A major the table was not read from: applied, and the assumption said.
        let m = model(
            r#"module "alb" {
  source  = "terraform-aws-modules/alb/aws"
  version = "~> 9.0"
  listeners = { http = { port = 80, protocol = "HTTP" } }
}"#,
        );
        assert!(m.element(lb).is_some());
        assert!(
            unknowns(&m)
                .iter()
                .any(|u| u.starts_with("module.alb.listeners: the 9.x listeners map is not in the table"))
        );
        assert!(
            unknowns(&m).iter().any(|u| u.contains("version \"~> 9.0\"") && u.contains("assumed")),
            "{:?}",
            unknowns(&m)
        );
    }

    #[test]
    fn ec2_instance_metadata_options_and_public_ip() {
        let m = model(
            r#"module "a" {
  source  = "terraform-aws-modules/ec2-instance/aws"
  version = "~> 5.0"
  associate_public_ip_address = true
}
module "b" {
  source           = "terraform-aws-modules/ec2-instance/aws"
  version          = "~> 5.0"
  metadata_options = { http_tokens = "required" }
}
module "c" {
  source           = "terraform-aws-modules/ec2-instance/aws"
  version          = "~> 5.0"
  metadata_options = { http_endpoint = "enabled" }
}"#,
        );
        let imds = |k: &str| {
            proposal(&m, "TF-EC2-IMDSV2", &format!("module.{k}.aws_instance.this")).map(|p| (p.0, p.1))
        };
        assert_eq!(imds("a"), Some((Outcome::Exposure, "http_tokens = \"optional\"".into())));
        assert_eq!(imds("b").map(|p| p.0), Some(Outcome::Mitigation));
        assert_eq!(imds("c").map(|p| p.0), Some(Outcome::Exposure));
        assert_eq!(
            proposal(&m, "TF-EC2-PUBLIC-IP", "module.a.aws_instance.this").map(|p| (p.0, p.2)),
            Some((Outcome::Exposure, 4))
        );
    }

    #[test]
    fn named_rules_are_sorted_and_unique() {
        assert!(NAMED_RULES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
