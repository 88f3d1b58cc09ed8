/*
 * tests/unit/graphql/introspection_queries.h — the introspection queries
 * clients send, as graphql-js 16.15's getIntrospectionQuery() writes them
 * (whitespace collapsed): its defaults (nine levels of ofType), GraphiQL
 * 3.8's options, and every option this engine answers. They must run under
 * the default limits.
 */
#ifndef INTROSPECTION_QUERIES_H
#define INTROSPECTION_QUERIES_H

/* graphql-js 16.15 getIntrospectionQuery(default) */
static const char INTRO_DEFAULT[] =
    "query IntrospectionQuery { __schema { queryType { name kind } mutationType { name kind "
    "} subscriptionType { name kind } types { ...FullType } directives { name description "
    "locations args { ...InputValue } } } } fragment FullType on __Type { kind name "
    "description fields(includeDeprecated: true) { name description args { ...InputValue } "
    "type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } "
    "interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description "
    "isDeprecated deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on "
    "__InputValue { name description type { ...TypeRef } defaultValue } fragment TypeRef on "
    "__Type { kind name ofType { name kind ofType { name kind ofType { name kind ofType { "
    "name kind ofType { name kind ofType { name kind ofType { name kind ofType { name kind "
    "ofType { name kind } } } } } } } } } }";

/* graphql-js 16.15 getIntrospectionQuery(graphiql) */
static const char INTRO_GRAPHIQL[] =
    "query IntrospectionQuery { __schema { description queryType { name kind } mutationType "
    "{ name kind } subscriptionType { name kind } types { ...FullType } directives { name "
    "description locations args(includeDeprecated: true) { ...InputValue } } } } fragment "
    "FullType on __Type { kind name description fields(includeDeprecated: true) { name "
    "description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } "
    "isDeprecated deprecationReason } inputFields(includeDeprecated: true) { ...InputValue "
    "} interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description "
    "isDeprecated deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on "
    "__InputValue { name description type { ...TypeRef } defaultValue isDeprecated "
    "deprecationReason } fragment TypeRef on __Type { kind name ofType { name kind ofType { "
    "name kind ofType { name kind ofType { name kind ofType { name kind ofType { name kind "
    "ofType { name kind ofType { name kind ofType { name kind } } } } } } } } } }";

/* graphql-js 16.15 getIntrospectionQuery(full) */
static const char INTRO_FULL[] =
    "query IntrospectionQuery { __schema { description queryType { name kind } mutationType "
    "{ name kind } subscriptionType { name kind } types { ...FullType } directives { name "
    "description isRepeatable locations args(includeDeprecated: true) { ...InputValue } } } "
    "} fragment FullType on __Type { kind name description specifiedByURL isOneOf "
    "fields(includeDeprecated: true) { name description args(includeDeprecated: true) { "
    "...InputValue } type { ...TypeRef } isDeprecated deprecationReason } "
    "inputFields(includeDeprecated: true) { ...InputValue } interfaces { ...TypeRef } "
    "enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason "
    "} possibleTypes { ...TypeRef } } fragment InputValue on __InputValue { name "
    "description type { ...TypeRef } defaultValue isDeprecated deprecationReason } fragment "
    "TypeRef on __Type { kind name ofType { name kind ofType { name kind ofType { name kind "
    "ofType { name kind ofType { name kind ofType { name kind ofType { name kind ofType { "
    "name kind ofType { name kind } } } } } } } } } }";

#endif
