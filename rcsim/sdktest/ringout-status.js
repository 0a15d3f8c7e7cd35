// The guide's sample followed by its "Polling Call Status" GET and its DELETE, in the
// guide's own spelling (ringout): place a call, read its status, cancel it (expect 204).
const RingCentral = require('@ringcentral/sdk').SDK
var rcsdk = new RingCentral( {server: process.env.RC_SERVER_URL, clientId: process.env.RC_CLIENT_ID, clientSecret: process.env.RC_CLIENT_SECRET} );
var platform = rcsdk.platform();
platform.login( {username: process.env.RC_USERNAME, password: process.env.RC_PASSWORD, extension: process.env.RC_EXTENSION} )
platform.on(platform.events.loginSuccess, async function(response){
try{
var resp = await platform.post('/restapi/v1.0/account/~/extension/~/ringout', {
'from' : { 'phoneNumber': "13445554444" },
'to' : {'phoneNumber': "13455553434"},
'playPrompt' : true
})
var jsonObj = await resp.json()
console.log("Call placed. Call status: " + jsonObj.status.callStatus)
resp = await platform.get('/restapi/v1.0/account/~/extension/~/ringout/' + jsonObj.id)
jsonObj = await resp.json()
console.log("Call status: " + jsonObj.status.callStatus + ", caller: " + jsonObj.status.callerStatus + ", callee: " + jsonObj.status.calleeStatus)
resp = await platform.delete('/restapi/v1.0/account/~/extension/~/ringout/' + jsonObj.id)
console.log("Canceled: " + resp.status)
try{
await platform.get('/restapi/v1.0/account/~/extension/~/ringout/' + jsonObj.id)
console.log("After cancel: the call is still there")
}catch(e){
console.log("After cancel: " + e.response.status + " " + e.message)
}
}catch(e){
console.log(e.message)
}
})
