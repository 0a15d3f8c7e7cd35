// The RingOut guide's JavaScript sample (docs/ringout-guide.txt), unchanged
// except that server, app and user come from the environment.
const RingCentral = require('@ringcentral/sdk').SDK
var rcsdk = new RingCentral( {server: process.env.RC_SERVER_URL, clientId: process.env.RC_CLIENT_ID, clientSecret: process.env.RC_CLIENT_SECRET} );
var platform = rcsdk.platform();
platform.login( {username: process.env.RC_USERNAME, password: process.env.RC_PASSWORD, extension: process.env.RC_EXTENSION} )
platform.on(platform.events.loginSuccess, async function(response){
try{
var resp = await platform.post('/restapi/v1.0/account/~/extension/~/ring-out', {
'from' : { 'phoneNumber': "13445554444" },
'to' : {'phoneNumber': "13455553434"},
'playPrompt' : true
})
var jsonObj = await resp.json()
console.log("Call placed. Call status: " + jsonObj.status.callStatus)
}catch(e){
console.log(e.message)
}
})
