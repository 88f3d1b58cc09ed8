// web/graphiql/graphiql-init.js — mount GraphiQL on /graphql of the same origin.
// A token from the web client's sign-in (localStorage "agora.token") is sent as
// a Bearer header; without one, introspection still works.
(function () {
  var token = null;
  try { token = window.localStorage.getItem("agora.token"); } catch (e) { /* private mode */ }
  var headers = token ? { Authorization: "Bearer " + token } : {};
  var fetcher = GraphiQL.createFetcher({ url: "/graphql", headers: headers });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolbarOpen: true })
  );
})();
